import type { CommitEvent } from './types.js';

const REVERT = /This reverts commit ([0-9a-f]{7,40})/g;

export class CommitGraph {
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

  contains(sha: string, ancestor: string): boolean {
    return this.reach(sha).includes(ancestor);
  }

  /** Full SHAs a commit's message says it reverts (git's default revert message). */
  reverted(sha: string): string[] {
    const message = this.#commits.get(sha)?.message ?? '';
    const out: string[] = [];
    for (const m of message.matchAll(REVERT)) {
      const prefix = m[1]!;
      if (this.#commits.has(prefix)) out.push(prefix);
      else for (const s of this.#commits.keys()) if (s.startsWith(prefix)) out.push(s);
    }
    return out;
  }
}
