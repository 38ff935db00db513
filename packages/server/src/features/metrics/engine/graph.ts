import type { CommitEvent } from './types.js';

/** `git revert`'s default message; SHAs may be abbreviated to 7 or more hex digits. */
const REVERT = /This reverts commit ([0-9a-f]{7,40})/g;

/** The SHAs (full or abbreviated) a commit message says it reverts. */
export function revertedPrefixes(message: string | undefined): string[] {
  return message ? [...message.matchAll(REVERT)].map((m) => m[1]!) : [];
}

/** Where the ledger reads the commit graph: the commits table, or an events file in memory. */
export interface GraphSource {
  /** The commits with these SHAs that are known; unknown SHAs are left out. */
  commits(shas: readonly string[]): Promise<readonly CommitEvent[]>;
}

export class MemoryGraph implements GraphSource {
  readonly #commits = new Map<string, CommitEvent>();

  constructor(commits: readonly CommitEvent[]) {
    for (const c of commits) this.#commits.set(c.sha, c);
  }

  get(sha: string): CommitEvent | undefined {
    return this.#commits.get(sha);
  }

  has(sha: string): boolean {
    return this.#commits.has(sha);
  }

  async commits(shas: readonly string[]): Promise<readonly CommitEvent[]> {
    const out: CommitEvent[] = [];
    for (const s of shas) {
      const c = this.#commits.get(s);
      if (c) out.push(c);
    }
    return out;
  }

  /** Commits reachable from sha (itself included), not descending into any commit in `stop`. */
  reach(sha: string, stop: ReadonlySet<string> = new Set()): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    const todo = [sha];
    while (todo.length) {
      const s = todo.pop()!;
      if (seen.has(s) || stop.has(s)) continue;
      seen.add(s);
      const c = this.#commits.get(s);
      if (!c) continue;
      out.push(s);
      todo.push(...c.parents);
    }
    return out;
  }
}

/**
 * The change set of a deployment, as defined in docs/metrics.md: commits reachable from its SHA but not
 * from the SHA of the previous successful deployment of the environment.
 */
export function changeSet(graph: MemoryGraph, sha: string, previousSha: string | null): string[] {
  return previousSha === null ? graph.reach(sha) : graph.reach(sha, new Set(graph.reach(previousSha)));
}
