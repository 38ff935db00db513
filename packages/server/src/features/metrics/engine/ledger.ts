import { type GraphSource, revertedPrefixes } from './graph.js';
import type { CommitEvent } from './types.js';

/** The deployment of an environment that first shipped a commit, and its place in that history. */
export interface Shipment {
  seq: number;
  deploymentId: string;
}

/** What the ledger remembers of one environment's successful deployments so far. */
export interface LedgerState {
  /** The last recorded deployment (its SHA is the one running). */
  last(): Promise<{ sha: string; seq: number } | null>;
  ranBefore(sha: string): Promise<boolean>;
  /** First shipments of these SHAs; SHAs never shipped here are left out. */
  shipped(shas: readonly string[]): Promise<Map<string, Shipment>>;
  /** First shipments of the commits whose SHA starts with `prefix` (revert messages may abbreviate). */
  shippedByPrefix(prefix: string): Promise<Map<string, Shipment>>;
}

/**
 * The facts about one successful deployment that need the commit graph. They depend only on the
 * deployments before it and on the graph, so they are computed once, when it finishes, and kept.
 */
export interface DeploymentFacts {
  deploymentId: string;
  sha: string;
  /** 1, 2, 3… in the order the environment's deployments finished. */
  seq: number;
  /** The SHA running before this deployment (the previous successful deployment's), if any. */
  previousSha: string | null;
  /** This SHA ran successfully in the environment before (the running one included). */
  ranBefore: boolean;
  /** The previous SHA is an ancestor of this one. Computed only for a deployment of an earlier SHA. */
  forward: boolean | null;
  /** Deployments that first shipped the commits that this deployment's new commits revert. */
  revertTargets: string[];
  /** Commits this deployment ships to the environment for the first time. */
  newCommits: { sha: string; committedAt: string }[];
  /** The deployed SHA is in the commit graph (no lead times come from an unknown SHA). */
  knownSha: boolean;
}

/**
 * Computes the facts of the next successful deployment of an environment. The shipped set is closed
 * under ancestry (a deployment ships its SHA's whole history), so walking down from the SHA and
 * stopping at shipped commits finds exactly the new ones, however many merges there are.
 */
export async function nextFacts(
  d: { id: string; sha: string },
  graph: GraphSource,
  state: LedgerState,
): Promise<DeploymentFacts> {
  const last = await state.last();
  const previousSha = last?.sha ?? null;
  const ranBefore = previousSha === d.sha || (await state.ranBefore(d.sha));

  const fresh: CommitEvent[] = [];
  const seen = new Set([d.sha]);
  let layer = [d.sha];
  let knownSha = true;
  while (layer.length) {
    const shipped = await state.shipped(layer);
    const found = await graph.commits(layer.filter((s) => !shipped.has(s)));
    if (layer[0] === d.sha && fresh.length === 0 && found.length === 0 && !shipped.has(d.sha))
      knownSha = false;
    const next: string[] = [];
    for (const c of found) {
      fresh.push(c);
      for (const p of c.parents) {
        if (seen.has(p)) continue;
        seen.add(p);
        next.push(p);
      }
    }
    layer = next;
  }

  const targets = new Set<string>();
  for (const c of fresh) {
    for (const prefix of revertedPrefixes(c.message)) {
      const hits = prefix.length === 40 ? await state.shipped([prefix]) : await state.shippedByPrefix(prefix);
      for (const s of hits.values()) if (s.deploymentId !== d.id) targets.add(s.deploymentId);
    }
  }

  const forward =
    ranBefore && previousSha !== null && previousSha !== d.sha
      ? await isShippedAncestor(previousSha, d.sha, graph, state)
      : null;

  return {
    deploymentId: d.id,
    sha: d.sha,
    seq: (last?.seq ?? 0) + 1,
    previousSha,
    ranBefore,
    forward,
    revertTargets: [...targets].sort(),
    // In SHA order, so the facts do not depend on the order a source returns commits in.
    newCommits: fresh
      .map((c) => ({ sha: c.sha, committedAt: c.committedAt }))
      .sort((a, b) => (a.sha < b.sha ? -1 : a.sha > b.sha ? 1 : 0)),
    knownSha,
  };
}

/**
 * Is `ancestor` reachable from `tip`? Both were shipped. A commit on a path from tip down to ancestor
 * has ancestor in its history, so it was first shipped no earlier than ancestor: the walk skips every
 * commit shipped before ancestor was, and stays within the history between the two deployments.
 */
async function isShippedAncestor(
  ancestor: string,
  tip: string,
  graph: GraphSource,
  state: LedgerState,
): Promise<boolean> {
  const a = (await state.shipped([ancestor])).get(ancestor);
  if (!a) return false;
  const seen = new Set([tip]);
  let layer = [tip];
  while (layer.length) {
    if (layer.includes(ancestor)) return true;
    const shipped = await state.shipped(layer);
    const keep = layer.filter((s) => (shipped.get(s)?.seq ?? -1) >= a.seq);
    const next: string[] = [];
    for (const c of await graph.commits(keep)) {
      for (const p of c.parents) {
        if (seen.has(p)) continue;
        seen.add(p);
        next.push(p);
      }
    }
    layer = next;
  }
  return false;
}

/** The ledger state of one environment, in memory: for events files and tests. */
export class MemoryLedgerState implements LedgerState {
  readonly #shipped = new Map<string, Shipment>();
  readonly #ran = new Set<string>();
  #last: { sha: string; seq: number } | null = null;

  async last() {
    return this.#last;
  }

  async ranBefore(sha: string) {
    return this.#ran.has(sha);
  }

  async shipped(shas: readonly string[]) {
    const out = new Map<string, Shipment>();
    for (const s of shas) {
      const hit = this.#shipped.get(s);
      if (hit) out.set(s, hit);
    }
    return out;
  }

  async shippedByPrefix(prefix: string) {
    const out = new Map<string, Shipment>();
    for (const [s, hit] of this.#shipped) if (s.startsWith(prefix)) out.set(s, hit);
    return out;
  }

  append(f: DeploymentFacts): void {
    const shipment = { seq: f.seq, deploymentId: f.deploymentId };
    for (const c of f.newCommits) this.#shipped.set(c.sha, shipment);
    this.#ran.add(f.sha);
    this.#last = { sha: f.sha, seq: f.seq };
  }
}
