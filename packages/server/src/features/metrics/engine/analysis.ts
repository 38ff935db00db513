import { isRollbackTrigger } from '@gantry/contracts';
import { type Classification, classify } from './classify.js';
import { MemoryGraph } from './graph.js';
import {
  byFinish,
  type FactDeployment,
  type LeadSample,
  type RollbackAttempt,
  type ScopedBuild,
  type ScopedIncident,
  scopedIncidents,
  successfulDeployments,
} from './history.js';
import { MemoryLedgerState, nextFacts } from './ledger.js';
import { ms } from './time.js';
import { DEFAULT_ENV, DEFAULT_INCIDENT_WINDOW_MS, type MetricsInput, type Scope } from './types.js';

/**
 * Everything the metrics of one app's environment are computed from, whatever the source: an events
 * file (analyze, below) or the server's database, where the ledger facts are kept as deployments finish.
 * Lead times are apart (LeadSample), because a year of them is a million numbers a database can
 * summarise itself.
 */
export interface History extends Classification {
  app: string;
  env: string;
  incidentWindowMs: number;
  incidents: ScopedIncident[];
  rollbackAttempts: RollbackAttempt[];
  builds: ScopedBuild[];
  /** Releases applied in the environment (`key` tells one release from another when apps are combined). */
  releases: { key: string; at: number }[];
  /** Times toggles were switched on in the environment outside a release (not by one, nor by its revert). */
  togglesOn: number[];
}

export type ScopeKey = Pick<Scope, 'app' | 'env' | 'incidentWindowMs'>;

/** Builds the pieces every source shares, from deployments that already carry their ledger facts. */
export function historyFrom(
  scope: ScopeKey,
  parts: Omit<History, 'app' | 'env' | 'incidentWindowMs' | keyof Classification> & {
    deployments: FactDeployment[];
  },
): History {
  const env = scope.env ?? DEFAULT_ENV;
  const incidentWindowMs = scope.incidentWindowMs ?? DEFAULT_INCIDENT_WINDOW_MS;
  const given = parts.deployments;
  // The server's ledger hands them over in finish order already; sort only when they are not.
  const ordered = given.every((d, i) => i === 0 || byFinish(given[i - 1]!, d) < 0);
  const deployments = ordered ? given : [...given].sort(byFinish);
  return {
    ...parts,
    ...classify(deployments, parts.incidents, incidentWindowMs),
    app: scope.app,
    env,
    incidentWindowMs,
  };
}

const COUNTED_BUILDS = new Set(['succeeded', 'failed', 'interrupted']);

/** The whole analysis of an in-memory list of events (an events file, a test). */
export async function analyze(
  input: MetricsInput,
  scope: ScopeKey,
): Promise<{ history: History; leadSamples: LeadSample[] }> {
  const env = scope.env ?? DEFAULT_ENV;
  const graph = new MemoryGraph(input.commits);
  const state = new MemoryLedgerState();
  const deployments: FactDeployment[] = [];
  const leadSamples: LeadSample[] = [];
  for (const d of successfulDeployments(input, scope.app, env)) {
    const f = await nextFacts(d, graph, state);
    state.append(f);
    for (const c of f.newCommits)
      leadSamples.push({
        sha: c.sha,
        deploymentId: d.id,
        at: d.finishedAt,
        leadMs: d.finishedAt - ms(c.committedAt),
      });
    deployments.push({
      ...d,
      ranBefore: f.ranBefore,
      forward: f.forward,
      revertTargets: f.revertTargets,
      knownSha: f.knownSha,
      newCommits: f.newCommits.length,
    });
  }
  const history = historyFrom(scope, {
    deployments,
    incidents: scopedIncidents(input.incidents, scope.app, env),
    rollbackAttempts: input.deployments
      .filter((d) => d.app === scope.app && d.env === env && isRollbackTrigger(d.trigger) && d.finishedAt)
      .map((d) => ({
        id: d.id,
        succeeded: d.status === 'succeeded',
        requestedAt: ms(d.requestedAt),
        finishedAt: ms(d.finishedAt!),
      })),
    builds: input.builds
      .filter((b) => b.app === scope.app && COUNTED_BUILDS.has(b.status) && b.startedAt && b.finishedAt)
      .map((b) => ({
        id: b.id,
        queuedAt: ms(b.queuedAt),
        startedAt: ms(b.startedAt!),
        finishedAt: ms(b.finishedAt!),
        ...(b.sloMs !== undefined && { sloMs: b.sloMs }),
      })),
    releases: (input.releases ?? [])
      .filter((r) => r.env === env && (r.app === undefined || r.app === scope.app))
      .map((r) => ({ key: `${r.name}@${r.appliedAt}`, at: ms(r.appliedAt) })),
    togglesOn: (input.toggleChanges ?? [])
      .filter((t) => t.app === scope.app && t.env === env && !t.release && !t.enabledBefore && t.enabledAfter)
      .map((t) => ms(t.at)),
  });
  return { history, leadSamples };
}

/**
 * Several apps' histories of one environment as one, for pooled figures: ratios become sums of
 * numerators over sums of denominators, and medians are taken over everything together. A release
 * that touched several apps counts once.
 */
export function combineHistories(histories: readonly History[], label = 'all apps'): History {
  const first = histories[0];
  if (!first) throw new Error('combineHistories needs at least one history');
  const failures = new Map<string, History['failures'] extends Map<string, infer F> ? F : never>();
  for (const h of histories) for (const [id, f] of h.failures) failures.set(id, f);
  const releases = new Map<string, { key: string; at: number }>();
  for (const h of histories) for (const r of h.releases) releases.set(r.key, r);
  const all = <T>(pick: (h: History) => readonly T[]) => histories.flatMap((h) => [...pick(h)]);
  return {
    app: label,
    env: first.env,
    incidentWindowMs: first.incidentWindowMs,
    deployments: all((h) => h.deployments).sort(byFinish),
    failures,
    incidents: all((h) => h.incidents).sort((a, b) => a.openedAt - b.openedAt || (a.id < b.id ? -1 : 1)),
    rollbackAttempts: all((h) => h.rollbackAttempts),
    builds: all((h) => h.builds),
    releases: [...releases.values()],
    togglesOn: all((h) => h.togglesOn),
  };
}
