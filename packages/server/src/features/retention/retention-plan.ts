import { type Artifact, humanDuration, type RetentionPolicy } from '@gantry/contracts';

/**
 * Something that needs an artifact whatever the policy says: an environment that runs it, keeps it
 * warm or would roll back to it, or a deployment that waits for it. A pin names the artifact a
 * deployment recorded (it may be one a rebuild has since replaced), the SHA whose current artifact a
 * deployment or rollback would take, or both.
 */
export interface Pin {
  appId: string;
  artifactId?: string | null;
  sha?: string | null;
  reason: string;
}

/** Every artifact of an app stays while this holds (a revert bisecting its commits). */
export interface AppHold {
  appId: string;
  reason: string;
}

export interface RetentionFacts {
  /** The live artifacts (not collected yet). */
  artifacts: Artifact[];
  pins: Pin[];
  appHolds: AppHold[];
  now: number;
}

export interface RetentionDecision {
  artifact: Artifact;
  keep: boolean;
  /** Why it stays (every reason that applies), or why it goes. */
  reasons: string[];
}

const short = (sha: string) => sha.slice(0, 12);

/** Newest first: by when it was made, then by id (ids grow). */
function newestFirst(a: Artifact, b: Artifact): number {
  return b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);
}

function push<K>(map: Map<K, string[]>, key: K, reason: string): void {
  const list = map.get(key) ?? [];
  if (!list.includes(reason)) list.push(reason);
  map.set(key, list);
}

/**
 * What the policy keeps and collects, and why, from facts alone (no I/O). An artifact stays when a
 * pin or a hold needs it, when it is among the newest `keepPerApp` current artifacts of its app (a
 * rebuild of a SHA replaces its earlier artifact, which then counts no more), or when it is younger
 * than `maxAgeMs`. Everything else goes.
 */
export function planRetention(facts: RetentionFacts, policy: RetentionPolicy): RetentionDecision[] {
  const byId = new Map<string, string[]>();
  const bySha = new Map<string, string[]>();
  const byApp = new Map<string, string[]>();
  for (const p of facts.pins) {
    if (p.artifactId) push(byId, p.artifactId, p.reason);
    if (p.sha) push(bySha, `${p.appId} ${p.sha}`, p.reason);
  }
  for (const h of facts.appHolds) push(byApp, h.appId, h.reason);

  const rank = new Map<string, number>();
  const perApp = new Map<string, number>();
  for (const a of [...facts.artifacts].sort(newestFirst)) {
    if (!a.current) continue;
    const n = (perApp.get(a.appId) ?? 0) + 1;
    perApp.set(a.appId, n);
    rank.set(a.id, n);
  }

  return [...facts.artifacts].sort(newestFirst).map((artifact) => {
    const a = artifact;
    const reasons = [
      ...(byId.get(a.id) ?? []),
      ...(a.current ? (bySha.get(`${a.appId} ${a.sha}`) ?? []) : []),
      ...(byApp.get(a.appId) ?? []),
    ].filter((r, i, all) => all.indexOf(r) === i);
    const n = rank.get(a.id);
    if (n !== undefined && n <= policy.keepPerApp)
      reasons.push(`among the ${policy.keepPerApp} newest of ${a.app} (#${n})`);
    const age = facts.now - Date.parse(a.createdAt);
    if (age < policy.maxAgeMs)
      reasons.push(`younger than ${policy.maxAge} (built ${humanDuration(Math.max(0, age))} ago)`);
    if (reasons.length > 0) return { artifact, keep: true, reasons };
    return {
      artifact,
      keep: false,
      reasons: [
        n === undefined
          ? `replaced by a rebuild of ${short(a.sha)}`
          : `not among the ${policy.keepPerApp} newest of ${a.app} (#${n})`,
        `built ${humanDuration(age)} ago, older than ${policy.maxAge}`,
        'no environment runs it, keeps it warm or would roll back to it, and no deployment waits for it',
      ],
    };
  });
}
