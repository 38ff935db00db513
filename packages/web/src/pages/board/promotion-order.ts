/**
 * Environments in promotion order: each after the one it promotes from (qa → staging →
 * production), otherwise in the order given (gantry.yaml's). Cycles and unknown upstreams keep
 * their place.
 */
export function promotionOrder<T extends { env: string; promoteFrom: string | null }>(envs: T[]): T[] {
  const byName = new Map(envs.map((e) => [e.env, e]));
  const depth = (e: T, seen = new Set<string>()): number => {
    const up = e.promoteFrom ? byName.get(e.promoteFrom) : undefined;
    if (!up || seen.has(e.env)) return 0;
    seen.add(e.env);
    return 1 + depth(up, seen);
  };
  return envs
    .map((e, i) => ({ e, i, d: depth(e) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((x) => x.e);
}

/** "3 commits", "1 commit". */
export function commitCount(n: number): string {
  return `${n} ${n === 1 ? 'commit' : 'commits'}`;
}
