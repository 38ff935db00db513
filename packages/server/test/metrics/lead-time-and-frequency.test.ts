import { describe, expect, it } from 'vitest';
import {
  changeSet,
  classifyDeployments,
  deploymentFrequency,
  leadTime,
  MemoryGraph,
  reworkRate,
  rollbackTime,
} from '../../src/features/metrics/engine/index.js';
import { at, commit, DAY, deploy, HOUR, input, sha, T0, week } from './fixtures.js';

// d1 ships c1..c2, d2 ships c3..c4, d3 rolls back to c2, d4 re-deploys c4, d5 ships c5.
const history = input({
  commits: [commit(1, at(0)), commit(2, at(0, 6)), commit(3, at(1)), commit(4, at(2, 6)), commit(5, at(4))],
  deployments: [
    deploy('d1', 2, at(0, 12)),
    deploy('d2', 4, at(2, 12)),
    deploy('d3', 2, at(3), { trigger: 'rollback', requestedAt: at(2, 23, 59, 30) }),
    deploy('d4', 4, at(4), { trigger: 'cli', requestedAt: at(3, 23, 58) }),
    deploy('d5', 5, at(4, 1)),
  ],
});

describe('lead time for changes', () => {
  it('takes each commit at its first deployment, once, even after a rollback and re-deploy', async () => {
    const lt = await leadTime(history, week);
    expect(lt.commits.map((c) => [c.deploymentId, c.leadTimeMs / HOUR])).toEqual([
      ['d1', 12],
      ['d1', 6],
      ['d2', 36],
      ['d2', 6],
      ['d5', 1],
    ]);
    expect(lt.n).toBe(5);
    expect(lt.median).toBe(6 * HOUR);
    expect(lt.p90).toBeCloseTo(26.4 * HOUR);
  });

  it('interpolates the median when n is even', async () => {
    const lt = await leadTime(history, { ...week, to: at(3) });
    expect(lt.n).toBe(4);
    expect(lt.median).toBe(9 * HOUR);
    expect(lt.p90).toBeCloseTo(28.8 * HOUR);
  });

  it('follows merges through the commit graph', async () => {
    const merged = input({
      commits: [
        commit(1, at(0)),
        { sha: 'b', parents: [commit(1, '').sha], committedAt: at(0, 2) },
        { sha: 'm', parents: [commit(1, '').sha, 'b'], committedAt: at(0, 3) },
      ],
      deployments: [deploy('d1', 1, at(0, 1)), { ...deploy('d2', 1, at(0, 4)), sha: 'm' }],
    });
    const lt = await leadTime(merged, week);
    expect(lt.commits.map((c) => [c.sha.slice(-1), c.deploymentId, c.leadTimeMs / HOUR])).toEqual([
      ['1', 'd1', 1],
      ['b', 'd2', 2],
      ['m', 'd2', 1],
    ]);
  });

  it('is empty for an empty window', async () => {
    expect(await leadTime(history, { ...week, to: week.from })).toMatchObject({
      n: 0,
      median: null,
      p90: null,
    });
  });
});

describe('classification of the same history', () => {
  it('names rollbacks by SHA and does not blame a rollback for the roll-forward after it', async () => {
    const { deployments, failures } = await classifyDeployments(history, week);
    expect(deployments.map((d) => [d.id, d.kind, d.remediatesIds])).toEqual([
      ['d1', 'change', []],
      ['d2', 'change', []],
      ['d3', 'rollback', ['d2']],
      ['d4', 'rollback', []],
      ['d5', 'change', []],
    ]);
    expect([...failures.keys()]).toEqual(['d2']);
    // The rollback to c2 ships nothing new; the roll-forward to c4 neither.
    expect(deployments.map((d) => d.newCommits)).toEqual([2, 2, 0, 0, 1]);
  });

  it('counts both rollbacks in deployment frequency, and says the roll-forward is not rework', async () => {
    expect((await deploymentFrequency(history, { ...week, bucket: 'week' })).rollbacks).toBe(2);
    expect(await reworkRate(history, week)).toMatchObject({
      remediating: 1,
      byKind: { rollback: 1, revert: 0, 'fix-forward': 0 },
      rollForwards: 1,
    });
  });

  it('defines the change set against the previous deployment, new commits against all shipped', () => {
    const graph = new MemoryGraph(history.commits);
    expect(changeSet(graph, sha(2), null)).toEqual([sha(2), sha(1)]);
    expect(changeSet(graph, sha(4), sha(2))).toEqual([sha(4), sha(3)]);
    // d4 (c4 after the rollback to c2): its change set is c3..c4, but both already ran here.
    expect(changeSet(graph, sha(2), sha(4))).toEqual([]);
  });
});

describe('deployment frequency', () => {
  it('counts per day, shows rollbacks apart and deployment days per week', async () => {
    const f = await deploymentFrequency(history, { ...week, bucket: 'day' });
    expect(f.deployments).toBe(5);
    expect(f.rollbacks).toBe(2);
    expect(f.perDay).toBeCloseTo(5 / 7);
    expect(f.buckets.map((b) => [b.deployments, b.rollbacks])).toEqual([
      [1, 0],
      [0, 0],
      [1, 0],
      [1, 1],
      [2, 1],
      [0, 0],
      [0, 0],
    ]);
    // Days with a deployment of a new change: 0, 2 and 4 (the rollback on day 3 ships nothing new).
    expect(f.deploymentDays).toEqual({
      days: 3,
      weeks: [{ start: at(0), days: 3 }],
      medianPerWeek: 3,
      months: [{ start: at(0), days: 3 }],
      medianPerMonth: 3,
    });
  });

  it('counts deployment days in whole weeks of UTC days, counted back from the last day of the window', async () => {
    const days = input({
      commits: [1, 2, 3, 4].map((n) => commit(n, at(0))),
      deployments: [
        deploy('first-day', 1, at(0, 13)), // the window's first day is partial: in no whole week
        deploy('d2', 2, at(3, 9)),
        deploy('d3', 3, at(27, 23)),
        deploy('last-day', 4, at(28, 11)), // the window's last day is partial, and counts
        deploy('after', 4, at(28, 13), { sha: sha(1) }), // after the window
      ],
    });
    const f = await deploymentFrequency(days, {
      app: 'web',
      from: at(0, 12),
      to: at(28, 12),
      bucket: 'week',
    });
    expect(f.deployments).toBe(4);
    expect(f.deploymentDays).toEqual({
      days: 4,
      weeks: [
        { start: at(1), days: 1 },
        { start: at(8), days: 0 },
        { start: at(15), days: 0 },
        { start: at(22), days: 2 },
      ],
      medianPerWeek: 0.5,
      months: [{ start: at(1), days: 3 }],
      medianPerMonth: 3,
    });
    const short = await deploymentFrequency(days, { app: 'web', from: at(3), to: at(6), bucket: 'day' });
    expect(short.deploymentDays).toMatchObject({
      days: 1,
      weeks: [],
      medianPerWeek: null,
      medianPerMonth: null,
    });
  });

  it('starts ISO weeks on Monday 00:00 UTC and keeps windows half-open', async () => {
    const edge = input({
      commits: [commit(1, at(0))],
      deployments: [
        deploy('sun', 1, new Date(T0 + 7 * DAY - 1).toISOString()),
        deploy('mon', 1, at(7)),
        deploy('end', 1, at(9)),
      ],
    });
    const f = await deploymentFrequency(edge, { app: 'web', from: at(2), to: at(9), bucket: 'week' });
    expect(f.buckets).toEqual([
      { start: at(0), deployments: 1, rollbacks: 0 },
      { start: at(7), deployments: 1, rollbacks: 0 },
    ]);
  });

  it('buckets by calendar month', async () => {
    const f = await deploymentFrequency(history, { app: 'web', from: at(0), to: at(40), bucket: 'month' });
    expect(f.buckets.map((b) => [b.start, b.deployments])).toEqual([
      ['2024-01-01T00:00:00.000Z', 5],
      ['2024-02-01T00:00:00.000Z', 0],
    ]);
  });

  it('is all zeros for an empty window', async () => {
    const f = await deploymentFrequency(history, { ...week, to: week.from, bucket: 'week' });
    expect(f).toMatchObject({ deployments: 0, rollbacks: 0, buckets: [], perDay: null });
  });
});

describe('rollback time', () => {
  it('measures requested → finished against the SLO; a failed rollback is a breach', async () => {
    const withFailure = {
      ...history,
      deployments: [
        ...history.deployments,
        deploy('d6', 4, at(5, 0, 5), { trigger: 'rollback', status: 'failed', requestedAt: at(5) }),
      ],
    };
    const r = await rollbackTime(withFailure, week);
    expect(r.n).toBe(2);
    expect(r.median).toBe(75_000);
    expect(r.max).toBe(120_000);
    expect(r.withinSlo).toBe(1);
    expect(r.withinSloShare).toBeCloseTo(1 / 3);
    expect(r.breaches.sort()).toEqual(['d4', 'd6']);
    expect(r.failed).toBe(1);
    expect((await rollbackTime(withFailure, { ...week, sloMs: 120_000 })).withinSlo).toBe(2);
  });
});
