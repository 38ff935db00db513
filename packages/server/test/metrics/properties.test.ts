import { describe, expect, it } from 'vitest';
import {
  changeFailureRate,
  classifyDeployments,
  deploymentFrequency,
  leadTime,
  type MetricsInput,
  recoveryTime,
  reworkRate,
} from '../../src/features/metrics/engine/index.js';
import { DAY, randomHistory, rng, T0 } from './fixtures.js';

const iso = (t: number) => new Date(t).toISOString();

function shuffled<T>(xs: readonly T[], r: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const shift = (s: string, by: number) => iso(Date.parse(s) + by);
function shiftAll(h: MetricsInput, by: number): MetricsInput {
  return {
    ...h,
    commits: h.commits.map((c) => ({ ...c, committedAt: shift(c.committedAt, by) })),
    deployments: h.deployments.map((d) => ({
      ...d,
      requestedAt: shift(d.requestedAt, by),
      startedAt: d.startedAt && shift(d.startedAt, by),
      finishedAt: d.finishedAt && shift(d.finishedAt, by),
    })),
    incidents: h.incidents.map((i) => ({
      ...i,
      openedAt: shift(i.openedAt, by),
      resolvedAt: i.resolvedAt && shift(i.resolvedAt, by),
    })),
  };
}

const scope = { app: 'web', from: iso(T0), to: iso(T0 + 28 * DAY) };
const seeds = Array.from({ length: 25 }, (_, i) => i + 1);

describe('properties over seeded random histories', () => {
  it.each(seeds)('seed %i: CFR and rework stay in [0, 1] with numerator ≤ denominator', async (seed) => {
    const h = randomHistory(seed);
    const cfr = await changeFailureRate(h, scope);
    expect(cfr.failed).toBeLessThanOrEqual(cfr.deployments);
    expect(new Set(cfr.failedIds).size).toBe(cfr.failed);
    const rw = await reworkRate(h, scope);
    expect(rw.remediating).toBeLessThanOrEqual(rw.deployments);
  });

  it.each(seeds)(
    'seed %i: recovery time is never negative, also with incidents linked to any deployment',
    async (seed) => {
      const h = randomHistory(seed);
      const r = rng(seed * 7);
      const prod = h.deployments.filter((d) => d.env === 'production' && d.status === 'succeeded');
      // Link incidents to random deployments, which may have finished long after the incident.
      const linked: MetricsInput = {
        ...h,
        incidents: h.incidents.map((i) =>
          r() < 0.7 && prod.length ? { ...i, deploymentId: prod[Math.floor(r() * prod.length)]!.id } : i,
        ),
      };
      for (const input of [h, linked]) {
        const rec = await recoveryTime(input, scope);
        for (const x of rec.recoveries) {
          expect(x.failedAt).toBeLessThanOrEqual(x.finishedAt);
          if (x.recoveryMs !== null) expect(x.recoveryMs).toBeGreaterThanOrEqual(0);
        }
      }
    },
  );

  it.each(seeds)(
    'seed %i: every commit gets at most one lead time, never negative by construction',
    async (seed) => {
      const lt = await leadTime(randomHistory(seed), scope);
      expect(new Set(lt.commits.map((c) => c.sha)).size).toBe(lt.commits.length);
      for (const c of lt.commits) expect(c.leadTimeMs).toBeGreaterThanOrEqual(0);
    },
  );

  it.each(seeds)('seed %i: shuffling the input changes nothing', async (seed) => {
    const h = randomHistory(seed);
    const r = rng(seed * 7);
    const s = {
      ...h,
      commits: shuffled(h.commits, r),
      deployments: shuffled(h.deployments, r),
      incidents: shuffled(h.incidents, r),
    };
    for (const f of [changeFailureRate, leadTime, recoveryTime, reworkRate] as const) {
      expect(f(s, scope)).toEqual(f(h, scope));
    }
  });

  it.each(seeds)('seed %i: shifting by a week shifts weekly buckets, not lead times', async (seed) => {
    const h = randomHistory(seed);
    const moved = shiftAll(h, 7 * DAY);
    const later = { ...scope, from: shift(scope.from, 7 * DAY), to: shift(scope.to, 7 * DAY) };
    const a = await deploymentFrequency(h, { ...scope, bucket: 'week' });
    const b = await deploymentFrequency(moved, { ...later, bucket: 'week' });
    expect(b.buckets).toEqual(a.buckets.map((x) => ({ ...x, start: shift(x.start, 7 * DAY) })));
    expect((await leadTime(moved, later)).commits).toEqual((await leadTime(h, scope)).commits);
    expect(await changeFailureRate(moved, later)).toEqual(await changeFailureRate(h, scope));
  });

  it.each(seeds)('seed %i: adding a rollback at the end changes no lead time', async (seed) => {
    const h = randomHistory(seed);
    const first = (await classifyDeployments(h, scope)).deployments[0];
    if (!first) return;
    const end = iso(T0 + 27 * DAY);
    const rollback = {
      ...h.deployments.find((d) => d.id === first.id)!,
      id: 'late-rollback',
      trigger: 'rollback' as const,
      requestedAt: end,
      startedAt: end,
      finishedAt: end,
    };
    const after = await leadTime({ ...h, deployments: [...h.deployments, rollback] }, scope);
    expect(after.commits).toEqual((await leadTime(h, scope)).commits);
  });
});

describe('the generator', () => {
  it('exercises rollbacks, reverts, fix-forwards and incident failures across seeds', async () => {
    const kinds = new Set<string>();
    for (const seed of seeds) {
      const c = await classifyDeployments(randomHistory(seed), scope);
      for (const d of c.deployments) kinds.add(d.kind);
      for (const f of c.failures.values()) for (const r of f.reasons) kinds.add(`failed:${r}`);
    }
    expect([...kinds].sort()).toEqual(
      expect.arrayContaining(['change', 'rollback', 'fix-forward', 'failed:incident', 'failed:rollback']),
    );
  });
});
