import { describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/features/metrics/engine/index.js';
import { buildTime, releaseFrequency } from '../../src/features/metrics/engine/index.js';
import { at, input, week } from './fixtures.js';

const build = (
  id: string,
  queued: number,
  started: number,
  minutes: number,
  extra: Partial<BuildEvent> = {},
) => ({
  id,
  app: 'web',
  sha: 'x',
  status: 'succeeded' as const,
  queuedAt: at(1, 0, queued),
  startedAt: at(1, 0, started),
  finishedAt: at(1, 0, started + minutes),
  ...extra,
});

describe('build time', () => {
  const history = input({
    builds: [
      build('b1', 0, 1, 5),
      build('b2', 10, 10, 12),
      build('b3', 20, 20, 30, { status: 'cancelled' }),
      build('b4', 30, 33, 8, { status: 'failed' }),
      build('b5', 40, 40, 1, { app: 'api' }),
      { ...build('b6', 50, 50, 0), status: 'running', finishedAt: null },
    ],
  });

  it('measures started → finished against the SLO, cancelled excluded, queue time apart', async () => {
    const b = await buildTime(history, week);
    expect(b).toMatchObject({ n: 3, median: 8 * 60_000, max: 12 * 60_000, withinSlo: 2, breaches: ['b2'] });
    expect(b.p95).toBeCloseTo(11.6 * 60_000);
    expect(b.withinSloShare).toBeCloseTo(2 / 3);
    expect(b.queue).toMatchObject({ n: 3, median: 60_000, max: 3 * 60_000 });
  });

  it('takes a custom SLO', async () => {
    expect((await buildTime(history, { ...week, sloMs: 5 * 60_000 })).breaches).toEqual(['b2', 'b4']);
  });

  it("holds each build to its own SLO (gantry.yaml's build.timeout) unless one is given for all", async () => {
    const own = input({
      builds: [
        build('b1', 0, 1, 5, { sloMs: 4 * 60_000 }), // over its 4 min
        build('b2', 10, 10, 12, { sloMs: 15 * 60_000 }), // within its 15 min
        build('b4', 30, 33, 8), // no SLO recorded: the default 10 min
      ],
    });
    const b = await buildTime(own, week);
    expect(b).toMatchObject({ breaches: ['b1'], withinSlo: 2, sloMs: 600_000 });
    // The report's SLO line is the newest build's.
    expect((await buildTime(input({ builds: own.builds.slice(0, 2) }), week)).sloMs).toBe(15 * 60_000);
    expect((await buildTime(own, { ...week, sloMs: 9 * 60_000 })).breaches).toEqual(['b2']);
  });
});

describe('release frequency', () => {
  it('counts releases applied and toggles switched on outside a release as one count, apart from deployments', async () => {
    const history = input({
      releases: [
        { name: 'r1', env: 'production', appliedAt: at(0, 9) },
        { name: 'r2', env: 'production', app: 'web', appliedAt: at(8) },
        { name: 'r3', env: 'staging', appliedAt: at(1) },
        { name: 'r4', env: 'production', app: 'api', appliedAt: at(1) },
      ],
      toggleChanges: [
        { app: 'web', env: 'production', toggle: 'a', at: at(2), enabledBefore: false, enabledAfter: true },
        { app: 'web', env: 'production', toggle: 'a', at: at(3), enabledBefore: true, enabledAfter: false },
        { app: 'web', env: 'production', toggle: 'b', at: at(9), enabledBefore: false, enabledAfter: true },
        { app: 'web', env: 'staging', toggle: 'c', at: at(2), enabledBefore: false, enabledAfter: true },
        // Switched on by release r2 and by a revert of another: part of a release, not a release alone.
        {
          app: 'web',
          env: 'production',
          toggle: 'd',
          at: at(8),
          enabledBefore: false,
          enabledAfter: true,
          release: 'r2',
        },
        {
          app: 'web',
          env: 'production',
          toggle: 'e',
          at: at(10),
          enabledBefore: false,
          enabledAfter: true,
          release: 'r0',
        },
      ],
    });
    const r = await releaseFrequency(history, { app: 'web', from: at(0), to: at(14), bucket: 'week' });
    expect(r).toEqual({
      bucket: 'week',
      releases: 4,
      releasesApplied: 2,
      togglesOn: 2,
      buckets: [
        { start: at(0), releases: 2, releasesApplied: 1, togglesOn: 1 },
        { start: at(7), releases: 2, releasesApplied: 1, togglesOn: 1 },
      ],
    });
  });
});
