import { classifyDeployments, type DeploymentKind } from './classify.js';
import { resolveScope } from './history.js';
import { ratio, type Summary, summarize } from './stats.js';
import { inWindow, toWindow } from './time.js';
import type { MetricsInput, Scope } from './types.js';

export interface ChangeFailureRate {
  failed: number;
  deployments: number;
  rate: number | null;
  failedIds: string[];
}

/** Anchor: the deployment's finish. Evidence after the window (a late rollback) still counts. */
export function changeFailureRate(input: MetricsInput, scope: Scope): ChangeFailureRate {
  const w = toWindow(scope.from, scope.to);
  const { deployments, failures } = classifyDeployments(input, scope);
  const inside = deployments.filter((d) => inWindow(d.finishedAt, w));
  const failedIds = inside.filter((d) => failures.has(d.id)).map((d) => d.id);
  return {
    failed: failedIds.length,
    deployments: inside.length,
    rate: ratio(failedIds.length, inside.length),
    failedIds,
  };
}

export interface Recovery {
  deploymentId: string;
  recoveredAt: number | null;
  recoveryMs: number | null;
}

export interface RecoveryTime extends Summary {
  recoveries: Recovery[];
  /** Failed deployments neither remediated nor with all their incidents resolved. */
  open: string[];
}

/** Anchor: the failed deployment's finish. */
export function recoveryTime(input: MetricsInput, scope: Scope): RecoveryTime {
  const w = toWindow(scope.from, scope.to);
  const { failures } = classifyDeployments(input, scope);
  const recoveries: Recovery[] = [];
  for (const f of failures.values()) {
    if (!inWindow(f.finishedAt, w)) continue;
    const ends: number[] = [];
    if (f.remediatedBy) ends.push(f.remediatedBy.finishedAt);
    const resolved = f.incidents.map((i) => i.resolvedAt);
    if (resolved.length && resolved.every((t) => t !== null)) ends.push(Math.max(...(resolved as number[])));
    const end = ends.length ? Math.min(...ends) : null;
    recoveries.push({
      deploymentId: f.id,
      recoveredAt: end,
      recoveryMs: end === null ? null : end - f.finishedAt,
    });
  }
  const done = recoveries.flatMap((r) => (r.recoveryMs === null ? [] : [r.recoveryMs]));
  return {
    ...summarize(done),
    recoveries,
    open: recoveries.filter((r) => r.recoveryMs === null).map((r) => r.deploymentId),
  };
}

export interface TimeToRestore extends Summary {
  open: string[];
}

/** Classic MTTR-style view. Anchor: the incident's opening. */
export function timeToRestore(input: MetricsInput, scope: Scope): TimeToRestore {
  const w = toWindow(scope.from, scope.to);
  const inside = resolveScope(input, scope).incidents.filter((i) => inWindow(i.openedAt, w));
  const done = inside.flatMap((i) => (i.resolvedAt === null ? [] : [i.resolvedAt - i.openedAt]));
  return { ...summarize(done), open: inside.filter((i) => i.resolvedAt === null).map((i) => i.id) };
}

const REMEDIATING: readonly DeploymentKind[] = ['rollback', 'revert', 'fix-forward'];

export interface ReworkRate {
  remediating: number;
  deployments: number;
  rate: number | null;
  byKind: Record<'rollback' | 'revert' | 'fix-forward', number>;
}

/** Anchor: the deployment's finish. */
export function reworkRate(input: MetricsInput, scope: Scope): ReworkRate {
  const w = toWindow(scope.from, scope.to);
  const inside = classifyDeployments(input, scope).deployments.filter((d) => inWindow(d.finishedAt, w));
  const remediating = inside.filter((d) => REMEDIATING.includes(d.kind) && d.remediatesIds.length > 0);
  const count = (k: DeploymentKind) => remediating.filter((d) => d.kind === k).length;
  return {
    remediating: remediating.length,
    deployments: inside.length,
    rate: ratio(remediating.length, inside.length),
    byKind: { rollback: count('rollback'), revert: count('revert'), 'fix-forward': count('fix-forward') },
  };
}
