import { CommitGraph } from './graph.js';
import { ms } from './time.js';
import {
  DEFAULT_ENV,
  DEFAULT_INCIDENT_WINDOW_MS,
  type DeploymentEvent,
  type IncidentEvent,
  type MetricsInput,
  type Scope,
} from './types.js';

export interface ProdDeployment {
  id: string;
  sha: string;
  trigger: DeploymentEvent['trigger'];
  requestedAt: number;
  finishedAt: number;
  remediates?: string;
}

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
  return out.sort(
    (a, b) => a.finishedAt - b.finishedAt || a.requestedAt - b.requestedAt || (a.id < b.id ? -1 : 1),
  );
}

export interface ScopedIncident {
  id: string;
  openedAt: number;
  resolvedAt: number | null;
  deploymentId: string | null;
}

export function scopedIncidents(input: MetricsInput, app: string, env: string): ScopedIncident[] {
  return input.incidents
    .filter((i: IncidentEvent) => i.app === app && i.env === env)
    .map((i) => ({
      id: i.id,
      openedAt: ms(i.openedAt),
      resolvedAt: i.resolvedAt ? ms(i.resolvedAt) : null,
      deploymentId: i.deploymentId ?? null,
    }))
    .sort((a, b) => a.openedAt - b.openedAt || (a.id < b.id ? -1 : 1));
}

/**
 * Blames each incident on one deployment: the linked one, or else the last deployment that finished
 * at or before the incident opened (so before the next one finished), if within the incident window.
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
      let last: ProdDeployment | undefined;
      for (const d of deployments) {
        if (d.finishedAt > inc.openedAt) break;
        last = d;
      }
      if (last && inc.openedAt - last.finishedAt <= windowMs) target = last.id;
    }
    if (target) out.set(target, [...(out.get(target) ?? []), inc]);
  }
  return out;
}

export interface ResolvedScope {
  app: string;
  env: string;
  incidentWindowMs: number;
  graph: CommitGraph;
  deployments: ProdDeployment[];
  incidents: ScopedIncident[];
}

export function resolveScope(input: MetricsInput, scope: Omit<Scope, 'from' | 'to'>): ResolvedScope {
  const env = scope.env ?? DEFAULT_ENV;
  return {
    app: scope.app,
    env,
    incidentWindowMs: scope.incidentWindowMs ?? DEFAULT_INCIDENT_WINDOW_MS,
    graph: new CommitGraph(input.commits),
    deployments: successfulDeployments(input, scope.app, env),
    incidents: scopedIncidents(input, scope.app, env),
  };
}
