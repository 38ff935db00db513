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
    expect(
      bandFor({
        deploymentsPerDay: 1 / 7,
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
        deploymentsPerDay: 0.01,
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
