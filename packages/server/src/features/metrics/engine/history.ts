import type { DeploymentFacts } from './ledger.js';
import { ms } from './time.js';
import type { DeploymentEvent, IncidentEvent, MetricsInput } from './types.js';

/** A successful deployment of the scope, times in epoch milliseconds. */
export interface ProdDeployment {
  id: string;
  sha: string;
  trigger: DeploymentEvent['trigger'];
  requestedAt: number;
  finishedAt: number;
  remediates?: string;
}

/** A successful deployment with the facts the ledger kept about it (no commit lists). */
export type FactDeployment = ProdDeployment &
  Pick<DeploymentFacts, 'ranBefore' | 'forward' | 'revertTargets' | 'knownSha'> & {
    newCommits: number;
  };

export interface ScopedIncident {
  id: string;
  openedAt: number;
  resolvedAt: number | null;
  deploymentId: string | null;
}

/** A deployment that was asked to roll back (any outcome), for rollback time. */
export interface RollbackAttempt {
  id: string;
  succeeded: boolean;
  requestedAt: number;
  finishedAt: number;
}

export interface ScopedBuild {
  id: string;
  queuedAt: number;
  startedAt: number;
  finishedAt: number;
  /** Its own SLO, when known. */
  sloMs?: number;
}

/** A commit's lead time: its first deployment's finish minus its committed time. */
export interface LeadSample {
  sha: string;
  deploymentId: string;
  at: number;
  leadMs: number;
}

export const byFinish = (a: ProdDeployment, b: ProdDeployment) =>
  a.finishedAt - b.finishedAt || a.requestedAt - b.requestedAt || (a.id < b.id ? -1 : 1);

/** Successful deployments of one app's environment, in the order they finished. */
export function successfulDeployments(input: MetricsInput, app: string, env: string): ProdDeployment[] {
  const out: ProdDeployment[] = [];
  for (const d of input.deployments) {
    if (d.app !== app || d.env !== env || d.status !== 'succeeded' || !d.finishedAt) continue;
    const p: ProdDeployment = {
      id: d.id,
      sha: d.sha,
      trigger: d.trigger,
      requestedAt: ms(d.requestedAt),
      finishedAt: ms(d.finishedAt),
    };
    if (d.remediates) p.remediates = d.remediates;
    out.push(p);
  }
  // Ties broken by request time then id, so shuffled input gives the same history.
  return out.sort(byFinish);
}

export function scopedIncidents(
  incidents: readonly IncidentEvent[],
  app: string,
  env: string,
): ScopedIncident[] {
  return incidents
    .filter((i) => i.app === app && i.env === env)
    .map((i) => ({
      id: i.id,
      openedAt: ms(i.openedAt),
      resolvedAt: i.resolvedAt ? ms(i.resolvedAt) : null,
      deploymentId: i.deploymentId ?? null,
    }))
    .sort((a, b) => a.openedAt - b.openedAt || (a.id < b.id ? -1 : 1));
}

/** Index of the last deployment that finished at or before t, or -1. */
function lastFinishedBy(deployments: readonly ProdDeployment[], t: number): number {
  let lo = 0;
  let hi = deployments.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (deployments[mid]!.finishedAt <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * Blames each incident on one deployment: the linked one, or else the last deployment that finished
 * at or before the incident opened (so before the next one finished), if within the incident window.
 * Incidents linked to a deployment outside the scope are blamed on nothing.
 */
export function attributeIncidents(
  deployments: readonly ProdDeployment[],
  incidents: readonly ScopedIncident[],
  windowMs: number,
): Map<string, ScopedIncident[]> {
  const ids = new Set(deployments.map((d) => d.id));
  const out = new Map<string, ScopedIncident[]>();
  for (const inc of incidents) {
    let target: string | undefined;
    if (inc.deploymentId) {
      if (ids.has(inc.deploymentId)) target = inc.deploymentId;
    } else {
      const last = deployments[lastFinishedBy(deployments, inc.openedAt)];
      if (last && inc.openedAt - last.finishedAt <= windowMs) target = last.id;
    }
    if (target) out.set(target, [...(out.get(target) ?? []), inc]);
  }
  return out;
}
