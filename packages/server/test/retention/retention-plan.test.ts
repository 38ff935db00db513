import type { Artifact } from '@gantry/contracts';
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/server-config.js';
import { planRetention, type RetentionFacts } from '../../src/features/retention/retention-plan.js';
import {
  formatAge,
  parseAge,
  retentionPolicy,
  withOverrides,
} from '../../src/features/retention/retention-policy.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00.000Z');

/** An artifact of `app` built `daysAgo` days before NOW; ids grow with creation like real ones. */
function artifact(n: number, daysAgo: number, over: Partial<Artifact> = {}): Artifact {
  return {
    id: `art_${String(n).padStart(3, '0')}`,
    appId: over.appId ?? 'app_shop',
    app: over.app ?? 'shop',
    sha: `${String(n).padStart(2, '0')}`.repeat(20),
    kind: 'tarball',
    digest: `sha256:${String(n).padStart(2, '0').repeat(32)}`,
    reference: null,
    size: 1000,
    buildId: `bld_${n}`,
    createdAt: new Date(NOW - daysAgo * DAY).toISOString(),
    current: true,
    prunedAt: null,
    ...over,
  };
}

const policy = retentionPolicy({ keepPerApp: 2, maxAgeMs: 14 * DAY, scheduled: true });

function plan(facts: Partial<RetentionFacts>) {
  const decisions = planRetention({ artifacts: [], pins: [], appHolds: [], now: NOW, ...facts }, policy);
  return {
    kept: decisions.filter((d) => d.keep).map((d) => d.artifact.id),
    collected: decisions.filter((d) => !d.keep).map((d) => d.artifact.id),
    why: (id: string) => decisions.find((d) => d.artifact.id === id)?.reasons,
  };
}

describe('the retention plan', () => {
  it('keeps the newest N of each app and anything younger than the age; collects the rest, saying why', () => {
    const artifacts = [
      artifact(1, 40),
      artifact(2, 30),
      artifact(3, 20),
      artifact(4, 10),
      artifact(5, 1),
      artifact(6, 50, { appId: 'app_blog', app: 'blog' }),
    ];
    const p = plan({ artifacts });
    expect(p.collected).toEqual(['art_003', 'art_002', 'art_001']);
    expect(p.kept).toEqual(['art_005', 'art_004', 'art_006']);
    expect(p.why('art_005')).toEqual(['among the 2 newest of shop (#1)', 'younger than 14d (built 1 d ago)']);
    expect(p.why('art_004')).toEqual([
      'among the 2 newest of shop (#2)',
      'younger than 14d (built 10 d ago)',
    ]);
    // Per app: blog's only artifact is its newest, however old.
    expect(p.why('art_006')).toEqual(['among the 2 newest of blog (#1)']);
    expect(p.why('art_003')).toEqual([
      'not among the 2 newest of shop (#3)',
      'built 20 d ago, older than 14d',
      'no environment runs it, keeps it warm or would roll back to it, and no deployment waits for it',
    ]);
  });

  it('never collects a pinned artifact: by the id a deployment recorded, or by SHA for the current artifact only', () => {
    const old = artifact(1, 90);
    const replaced = artifact(2, 80, { sha: 'ab'.repeat(20), current: false });
    const rebuilt = artifact(3, 70, { sha: 'ab'.repeat(20) });
    const artifacts = [old, replaced, rebuilt, artifact(4, 60), artifact(5, 50), artifact(6, 40)];
    const p = plan({
      artifacts,
      pins: [
        { appId: 'app_shop', artifactId: old.id, sha: old.sha, reason: 'production runs it (dep_1)' },
        { appId: 'app_shop', sha: 'ab'.repeat(20), reason: 'qa would roll back to it' },
        { appId: 'app_shop', artifactId: 'art_004', reason: 'deployment dep_9 to staging is queued' },
      ],
    });
    expect(p.kept).toEqual(['art_006', 'art_005', 'art_004', 'art_003', 'art_001']);
    expect(p.why('art_001')).toEqual(['production runs it (dep_1)']);
    // A SHA pin holds the artifact a rollback would take (the current one), not one a rebuild replaced.
    expect(p.why('art_003')).toEqual(['qa would roll back to it']);
    expect(p.why('art_002')?.[0]).toBe(`replaced by a rebuild of ${'ab'.repeat(6)}`);
    expect(p.why('art_004')).toEqual(['deployment dep_9 to staging is queued']);
    expect(p.collected).toEqual(['art_002']);
  });

  it('keeps every artifact of an app with a revert in progress, and only of that app', () => {
    const artifacts = [
      artifact(1, 90),
      artifact(2, 80),
      artifact(3, 70),
      artifact(4, 90, { appId: 'app_blog', app: 'blog' }),
      artifact(5, 80, { appId: 'app_blog', app: 'blog' }),
      artifact(6, 70, { appId: 'app_blog', app: 'blog' }),
    ];
    const p = plan({
      artifacts,
      appHolds: [{ appId: 'app_shop', reason: 'revert rev_1 of qa is bisecting' }],
    });
    expect(p.why('art_001')).toEqual(['revert rev_1 of qa is bisecting']);
    expect(p.collected).toEqual(['art_004']);
  });

  it('with keep 0 and age 0 keeps only what is pinned', () => {
    const strict = withOverrides(policy, { keepPerApp: 0, maxAge: '0s' });
    expect(strict).toMatchObject({ keepPerApp: 0, maxAgeMs: 0, maxAge: '0s' });
    const d = planRetention(
      {
        artifacts: [artifact(1, 0), artifact(2, 0)],
        pins: [{ appId: 'app_shop', sha: artifact(2, 0).sha, reason: 'qa runs it (dep_1)' }],
        appHolds: [],
        now: NOW + 1,
      },
      strict,
    );
    expect(d.map((x) => [x.artifact.id, x.keep])).toEqual([
      ['art_002', true],
      ['art_001', false],
    ]);
  });
});

describe('the retention policy settings', () => {
  it('defaults to 10 per app and 14 days, scheduled; GANTRY_ARTIFACTS_* change it', () => {
    expect(loadServerConfig({}, {}).config).toMatchObject({
      artifactsKeep: 10,
      artifactsMaxAgeMs: 14 * DAY,
      artifactsGc: true,
    });
    const { config, errors } = loadServerConfig(
      {},
      { GANTRY_ARTIFACTS_KEEP: '3', GANTRY_ARTIFACTS_MAX_AGE: '36h', GANTRY_ARTIFACTS_GC: '0' },
    );
    expect(errors).toEqual([]);
    expect(config).toMatchObject({ artifactsKeep: 3, artifactsMaxAgeMs: 36 * 3_600_000, artifactsGc: false });
    expect(
      loadServerConfig({}, { GANTRY_ARTIFACTS_KEEP: '-1', GANTRY_ARTIFACTS_MAX_AGE: '2 weeks' }).errors,
    ).toEqual([
      'GANTRY_ARTIFACTS_KEEP=-1: expected a whole number ≥ 0',
      'GANTRY_ARTIFACTS_MAX_AGE=2 weeks: expected a whole number and a unit (s, m, h, d), e.g. 30d',
    ]);
  });

  it('reads and writes ages as the settings do', () => {
    expect(parseAge('14d')).toBe(14 * DAY);
    expect(parseAge('90m')).toBe(5_400_000);
    expect(formatAge(36 * 3_600_000)).toBe('36h');
    expect(formatAge(14 * DAY)).toBe('14d');
    expect(() => parseAge('two days')).toThrow('expected a whole number and a unit');
  });
});
