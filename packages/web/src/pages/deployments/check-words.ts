/** Post-deploy checks in words, for the deployment page; pure, so the unit tests read it directly. */
import { isRollback, type Verification } from './verification-words';

/** "attempt 2 of 3": the first run and its retries; without the declared retries, "attempt 2". */
export function attemptText(attempt: number, retries: number | null): string {
  return retries === null ? `attempt ${attempt}` : `attempt ${attempt} of ${retries + 1}`;
}

export interface CheckRunLike {
  id: string;
  name: string;
  kind: string;
  attempt: number;
  status: 'running' | 'passed' | 'failed' | 'cancelled';
  startedAt: string;
}

export type CheckState = 'passed' | 'failed' | 'running' | 'cancelled' | 'waiting' | 'not run';

export interface CheckRow<R extends CheckRunLike> {
  name: string;
  kind: string;
  /** Declared retries; null for a check that ran but is no longer declared at this SHA. */
  retries: number | null;
  /** Oldest attempt first. */
  runs: R[];
  state: CheckState;
}

/**
 * Each declared check with its runs, in the declared order; runs of a check the configuration no
 * longer declares come last. A check without a run is waiting while the deployment verifies, and
 * did not run otherwise (an earlier check failed, or the checks were cut short).
 */
export function checkRows<R extends CheckRunLike>(
  declared: { name: string; kind: string; retries: number }[],
  runs: R[],
  verification: Verification | null,
): CheckRow<R>[] {
  const byName = new Map<string, R[]>();
  for (const r of runs) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
  const rows: CheckRow<R>[] = [];
  const row = (name: string, kind: string, retries: number | null): CheckRow<R> => {
    const own = [...(byName.get(name) ?? [])].sort((a, b) => a.attempt - b.attempt);
    const last = own[own.length - 1];
    const state: CheckState = last ? last.status : verification === 'verifying' ? 'waiting' : 'not run';
    return { name, kind, retries, runs: own, state };
  };
  for (const c of declared) rows.push(row(c.name, c.kind, c.retries));
  for (const [name, own] of byName) {
    if (declared.some((c) => c.name === name)) continue;
    rows.push(row(name, own[0]?.kind ?? 'run', null));
  }
  return rows;
}

/** The run still going, if any, for "running smoke (attempt 1 of 2)". */
export function runningNow<R extends CheckRunLike>(rows: CheckRow<R>[]): { row: CheckRow<R>; run: R } | null {
  for (const row of rows) {
    const run = row.runs.find((r) => r.status === 'running');
    if (run) return { row, run };
  }
  return null;
}

interface DeploymentLike {
  id: string;
  sha: string;
  trigger: string;
  previousSha: string | null;
  requestedAt: string;
}

/**
 * The rollback Gantry made after this deployment's check failed: the first `auto-rollback` of the
 * environment asked after it that switched away from its SHA.
 */
export function autoRollbackOf<D extends DeploymentLike>(d: DeploymentLike, history: D[]): D | null {
  const after = history
    .filter(
      (x) =>
        x.id !== d.id &&
        x.trigger === 'auto-rollback' &&
        x.previousSha === d.sha &&
        Date.parse(x.requestedAt) >= Date.parse(d.requestedAt),
    )
    .sort((a, b) => Date.parse(a.requestedAt) - Date.parse(b.requestedAt));
  return after[0] ?? null;
}

export interface CheckFailure {
  check: string;
  /** What Gantry did (the deployment.check_failed event's `action`); null when not known. */
  action: 'rollback' | 'keep' | 'none' | null;
}

/**
 * What happened when a check failed, as a sentence: "Check smoke failed; rolled back to 1a2b3c4d
 * (auto-rollback)."
 */
export function failureSentence(
  f: CheckFailure,
  d: { trigger: string },
  rollback: { sha: string; status: string } | null,
): string {
  const head = `Check ${f.check} failed`;
  if (f.action === 'rollback') {
    if (!rollback) return `${head}; rolling back (auto-rollback).`;
    const to = rollback.sha.slice(0, 8);
    if (rollback.status === 'succeeded') return `${head}; rolled back to ${to} (auto-rollback).`;
    if (rollback.status === 'queued' || rollback.status === 'running')
      return `${head}; rolling back to ${to} (auto-rollback).`;
    return `${head}; the rollback to ${to} (auto-rollback) ${rollback.status === 'failed' ? 'failed' : `ended ${rollback.status}`}.`;
  }
  if (f.action === 'keep') return `${head}; the release keeps running (on_check_failure: keep).`;
  if (f.action === 'none') {
    if (isRollback(d.trigger))
      return `${head}; this deployment was itself a rollback, so nothing more was done.`;
    if (d.trigger === 'bisect')
      return `${head}; this deployment was a bisect step, so it counts as the commit failing.`;
    return `${head}; nothing was rolled back.`;
  }
  return `${head}.`;
}

/** The deployment.check_failed event's data, read defensively (events are loosely typed). */
export function checkFailureOf(data: Record<string, unknown>): CheckFailure | null {
  if (typeof data.check !== 'string') return null;
  const a = data.action;
  return {
    check: data.check,
    action: a === 'rollback' || a === 'keep' || a === 'none' ? a : null,
  };
}
