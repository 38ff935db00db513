import { describe, expect, it } from 'vitest';
import {
  bandFor,
  bands,
  changeFailureRate,
  classifyDeployments,
  pooledReportFromEvents,
  recoveryTime,
  reportFromEvents,
  reworkRate,
  timeToRestore,
} from '../../src/features/metrics/engine/index.js';
import { at, commit, DAY, deploy, HOUR, incident, input, sha, week } from './fixtures.js';

const history = input({
  commits: [
    ...[1, 2, 3, 4, 6, 7, 8, 9, 10].map((n) => commit(n, at(0))),
    commit(5, at(2, 10, 10), `Revert "change 4"\n\nThis reverts commit ${sha(4)}.`),
  ],
  deployments: [
    deploy('D1', 1, at(0, 10)),
    deploy('D2', 2, at(1, 10)),
    deploy('D3', 3, at(1, 11)),
    deploy('D4', 4, at(2, 10)),
    deploy('D5', 5, at(2, 10, 20)),
    deploy('D6', 6, at(3, 10)),
    deploy('D7', 7, at(5, 12)),
    deploy('D8', 8, at(5, 13)),
    deploy('D9', 9, at(5, 14), { remediates: 'D8' }),
    deploy('D10', 10, at(6, 10)),
    deploy('other-app', 10, at(6, 10), { app: 'api' }),
    deploy('staging', 10, at(6, 10), { env: 'staging' }),
    deploy('failed-run', 10, at(6, 9), { status: 'failed' }),
  ],
  incidents: [
    incident('I1', at(0, 11), { resolvedAt: at(0, 13) }),
    incident('I2', at(1, 10, 30), { resolvedAt: at(1, 12) }),
    incident('I3', at(5, 10)),
    incident('I4', at(6, 11), { deploymentId: 'D10' }),
    incident('I5', at(6, 11), { env: 'staging', deploymentId: 'staging' }),
  ],
});

describe('classification', () => {
  it('finds incident failures, fix-forwards (implicit and explicit) and reverts', async () => {
    const { deployments, failures } = await classifyDeployments(history, week);
    expect(deployments.map((d) => `${d.id}:${d.kind}:${d.remediatesIds.join(',')}`)).toEqual([
      'D1:change:',
      'D2:change:',
      'D3:fix-forward:D2',
      'D4:change:',
      'D5:revert:D4',
      'D6:change:',
      'D7:change:',
      'D8:change:',
      'D9:fix-forward:D8',
      'D10:change:',
    ]);
    expect(Object.fromEntries([...failures].map(([id, f]) => [id, f.reasons.join(',')]))).toEqual({
      D1: 'incident',
      D2: 'fix-forward,incident',
      D4: 'revert',
      D8: 'fix-forward',
      D10: 'incident',
    });
  });

  it('blames an unlinked incident within the configurable window', async () => {
    const { deployments, failures } = await classifyDeployments(history, {
      app: 'web',
      incidentWindowMs: 3 * DAY,
    });
    expect(failures.get('D6')?.incidents.map((i) => i.id)).toEqual(['I3']);
    expect(deployments.find((d) => d.id === 'D7')?.kind).toBe('fix-forward');
  });
});

describe('change failure rate and rework', () => {
  it('counts each failed deployment once, with both numbers', async () => {
    expect(await changeFailureRate(history, week)).toEqual({
      failed: 5,
      deployments: 10,
      rate: 0.5,
      failedIds: ['D1', 'D2', 'D4', 'D8', 'D10'],
    });
    expect(await changeFailureRate(history, { ...week, incidentWindowMs: 3 * DAY })).toMatchObject({
      failed: 6,
      rate: 0.6,
    });
  });

  it('anchors on the deployment finish', async () => {
    expect(await changeFailureRate(history, { ...week, from: at(1), to: at(3) })).toMatchObject({
      failed: 2,
      deployments: 4,
    });
  });

  it('rework = remediating deployments ÷ deployments', async () => {
    expect(await reworkRate(history, week)).toEqual({
      remediating: 3,
      deployments: 10,
      rate: 0.3,
      byKind: { rollback: 0, revert: 1, 'fix-forward': 2 },
      rollForwards: 0,
    });
  });

  it('is null, not zero, with no deployments', async () => {
    expect(await changeFailureRate(history, { ...week, from: at(20), to: at(21) })).toMatchObject({
      failed: 0,
      deployments: 0,
      rate: null,
    });
  });
});

describe('recovery', () => {
  it('runs from failed finish to remediation finish or incident resolution, lists open ones', async () => {
    const r = await recoveryTime(history, week);
    expect(Object.fromEntries(r.recoveries.map((x) => [x.deploymentId, x.recoveryMs]))).toEqual({
      D1: 3 * HOUR,
      D2: 1 * HOUR,
      D4: 20 * 60_000,
      D8: 1 * HOUR,
      D10: null,
    });
    expect(r.n).toBe(4);
    expect(r.median).toBe(HOUR);
    expect(r.p90).toBeCloseTo(2.4 * HOUR);
    expect(r.open).toEqual(['D10']);
  });

  it('is never negative: an incident linked to a deployment that had not finished starts the failure', async () => {
    // D2 finishes at 10:30. I1 (linked to it) opened at 10:00, during its rollout, and was resolved at
    // 10:05: from D2's finish that was −25 min; the failure began when I1 opened, so 5 min.
    // I2 (linked to D3, opened during its rollout) is still open when R rolls back at 12:40.
    const early = input({
      commits: [1, 2, 3].map((n) => commit(n, at(0))),
      deployments: [
        deploy('D1', 1, at(1, 9)),
        deploy('D2', 2, at(1, 10, 30), { requestedAt: at(1, 9, 50) }),
        deploy('D3', 3, at(1, 12, 30), { requestedAt: at(1, 12) }),
        deploy('R', 2, at(1, 12, 40), { trigger: 'rollback', requestedAt: at(1, 12, 35) }),
      ],
      incidents: [
        incident('I1', at(1, 10), { deploymentId: 'D2', resolvedAt: at(1, 10, 5) }),
        incident('I2', at(1, 12, 10), { deploymentId: 'D3' }),
      ],
    });
    const r = await recoveryTime(early, week);
    expect(r.recoveries.map((x) => [x.deploymentId, x.failedAt, x.recoveryMs])).toEqual([
      ['D2', Date.parse(at(1, 10)), 5 * 60_000],
      ['D3', Date.parse(at(1, 12, 10)), 30 * 60_000],
    ]);
    // An incident opened after the finish leaves the start at the finish (the D1 of the history above).
    const late = (await recoveryTime(history, week)).recoveries.find((x) => x.deploymentId === 'D1');
    expect(late).toMatchObject({ failedAt: Date.parse(at(0, 10)), recoveryMs: 3 * HOUR });
  });

  it('time to restore: incident opened → resolved, open ones listed', async () => {
    const t = await timeToRestore(history, week);
    expect(t.n).toBe(2);
    expect(t.median).toBe(1.75 * HOUR);
    expect(t.open).toEqual(['I3', 'I4']);
  });
});

describe('bands (DORA 2023, a convention)', () => {
  it('classifies each key', async () => {
    const b = await bands(history, week);
    expect(b.values).toMatchObject({ deploymentsPerDay: 10 / 7, changeFailureRate: 0.5 });
    expect(b).toMatchObject({ deploymentFrequency: 'elite', changeFailureRate: 'low', recoveryTime: 'high' });
  });

  it('uses inclusive CFR bounds and exclusive time bounds', async () => {
    const none = { deploymentsPerDay: null, deploymentDaysPerMonth: null };
    expect(
      bandFor({
        ...none,
        deploymentDaysPerWeek: 1,
        leadTimeMedianMs: DAY,
        changeFailureRate: 0.05,
        recoveryMedianMs: null,
      }),
    ).toMatchObject({
      deploymentFrequency: 'high',
      leadTime: 'high',
      changeFailureRate: 'elite',
      recoveryTime: null,
    });
    expect(
      bandFor({
        ...none,
        deploymentDaysPerWeek: 0,
        leadTimeMedianMs: 31 * DAY,
        changeFailureRate: 0.15,
        recoveryMedianMs: 7 * DAY,
      }),
    ).toMatchObject({
      deploymentFrequency: 'low',
      leadTime: 'low',
      changeFailureRate: 'medium',
      recoveryTime: 'low',
    });
  });

  describe('deployment frequency: read from deployment days, as DORA asks and Four Keys counts', () => {
    const month = { app: 'web', from: at(0), to: at(28) };
    /** `perDay` deployments of new changes on each of the given weekdays (0 = Monday) of four weeks. */
    const team = (weekdays: number[], perDay: number, extra: ReturnType<typeof deploy>[] = []) => {
      const deployments = [];
      let n = 0;
      for (let w = 0; w < 4; w++)
        for (const d of weekdays)
          for (let k = 0; k < perDay; k++) {
            n++;
            deployments.push(deploy(`d${n}`, n, at(7 * w + d, 9 + k)));
          }
      return input({
        commits: Array.from({ length: n }, (_, i) => commit(i + 1, at(0))),
        deployments: [...deployments, ...extra],
      });
    };

    it('calls a team that deploys on 3 days a week "high", however many deployments a day', async () => {
      // Monday, Wednesday and Friday, three times each: 36 deployments in 28 days, 1.29 a day.
      const r = await reportFromEvents(team([0, 2, 4], 3), { ...month, bucket: 'week' });
      expect(r.deploymentFrequency.perDay).toBeCloseTo(36 / 28);
      expect(r.deploymentFrequency.deploymentDays.weeks.map((w) => w.days)).toEqual([3, 3, 3, 3]);
      expect(r.bands.values).toMatchObject({ deploymentDaysPerWeek: 3, deploymentsPerDay: 36 / 28 });
      expect(r.bands.deploymentFrequency).toBe('high');
      expect(r.previous.headline).toMatchObject({ deploymentDaysPerWeek: 0, deploymentsPerDay: 0 });
    });

    it('calls deploying on every working day "elite", weekends off', async () => {
      const r = await reportFromEvents(team([0, 1, 2, 3, 4], 1), { ...month, bucket: 'week' });
      expect(r.deploymentFrequency.perDay).toBeCloseTo(20 / 28);
      expect(r.bands).toMatchObject({ deploymentFrequency: 'elite' });
    });

    it('does not count rollbacks as deployment days', async () => {
      // A change each Monday; from the second week, back to last week's release and forward again
      // twice a day, Tuesday to Friday: 28 deployments in 28 days, but new code on one day a week.
      const rollbacks = [1, 2, 3].flatMap((w) =>
        [1, 2, 3, 4].flatMap((d) =>
          [0, 1, 2, 3].map((k) =>
            deploy(`rb${w}-${d}-${k}`, w + (k % 2), at(7 * w + d, 9 + k), { trigger: 'rollback' }),
          ),
        ),
      );
      const r = await reportFromEvents(team([0], 1, rollbacks), { ...month, bucket: 'week' });
      expect(r.deploymentFrequency).toMatchObject({ deployments: 52, rollbacks: 48 });
      expect(r.deploymentFrequency.deploymentDays.weeks.map((w) => w.days)).toEqual([1, 1, 1, 1]);
      expect(r.bands.deploymentFrequency).toBe('high');
    });

    it('calls one deployment day in four weeks "medium", none "low", and a window under a week nothing', async () => {
      const once = input({ commits: [commit(1, at(0))], deployments: [deploy('d1', 1, at(9))] });
      const r = await reportFromEvents(once, { ...month, bucket: 'week' });
      expect(r.bands.values).toMatchObject({ deploymentDaysPerWeek: 0, deploymentDaysPerMonth: 1 });
      expect(r.bands.deploymentFrequency).toBe('medium');
      const none = await reportFromEvents(once, { ...month, from: at(28), to: at(56), bucket: 'week' });
      expect(none.bands.deploymentFrequency).toBe('low');
      const short = await reportFromEvents(once, { ...month, from: at(8), to: at(11), bucket: 'day' });
      expect(short.bands.deploymentFrequency).toBeNull();
      expect(short.bands.values.deploymentsPerDay).toBeCloseTo(1 / 3);
    });
  });
});

describe('pooled across apps', () => {
  it('sums numerators and denominators instead of averaging ratios, and counts a shared release once', async () => {
    const two = input({
      commits: [commit(1, at(0)), commit(2, at(0, 1)), commit(3, at(0, 2)), commit(4, at(0, 3))],
      deployments: [
        deploy('A1', 1, at(1), { app: 'api' }),
        deploy('W1', 2, at(1, 1)),
        deploy('W2', 3, at(1, 2)),
        deploy('W3', 4, at(1, 3)),
      ],
      incidents: [incident('IA', at(1, 0, 30), { app: 'api', deploymentId: 'A1' })],
      releases: [
        { name: 'spring', env: 'production', appliedAt: at(2) },
        { name: 'api-only', app: 'api', env: 'production', appliedAt: at(2, 1) },
      ],
    });
    const api = await reportFromEvents(two, { ...week, app: 'api', bucket: 'week' });
    const web = await reportFromEvents(two, { ...week, app: 'web', bucket: 'week' });
    expect([api.changeFailureRate.rate, web.changeFailureRate.rate]).toEqual([1, 0]);
    const pooled = await pooledReportFromEvents(two, { ...week, bucket: 'week' });
    // (1 + 0) / (1 + 3), not the mean of 1 and 0.
    expect(pooled.changeFailureRate).toMatchObject({ failed: 1, deployments: 4, rate: 0.25 });
    expect(pooled.deploymentFrequency.deployments).toBe(4);
    expect(pooled.releaseFrequency.releases).toBe(2);
    expect([api.releaseFrequency.releases, web.releaseFrequency.releases]).toEqual([2, 1]);
    expect(pooled.app).toBe('all apps');
  });
});
