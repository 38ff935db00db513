import { resolveScope } from './history.js';
import { type Summary, summarize } from './stats.js';
import { inWindow, ms, toWindow } from './time.js';
import type { MetricsInput, Scope } from './types.js';

export interface CommitLeadTime {
  sha: string;
  deploymentId: string;
  leadTimeMs: number;
}

export interface LeadTime extends Summary {
  commits: CommitLeadTime[];
}

/** Anchor: the finish of the commit's first successful deployment to the environment. */
export function leadTime(input: MetricsInput, scope: Scope): LeadTime {
  const w = toWindow(scope.from, scope.to);
  const { graph, deployments } = resolveScope(input, scope);
  // Ancestors of a shipped commit were shipped with it, so stopping at shipped commits finds only new ones.
  const shipped = new Set<string>();
  const commits: CommitLeadTime[] = [];
  for (const d of deployments) {
    const fresh = graph.reach(d.sha, shipped);
    for (const sha of fresh) shipped.add(sha);
    if (!inWindow(d.finishedAt, w)) continue;
    for (const sha of fresh) {
      const c = graph.get(sha)!;
      commits.push({ sha, deploymentId: d.id, leadTimeMs: d.finishedAt - ms(c.committedAt) });
    }
  }
  commits.sort((a, b) => (a.sha < b.sha ? -1 : 1));
  return { ...summarize(commits.map((c) => c.leadTimeMs)), commits };
}
