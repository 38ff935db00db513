/**
 * The metrics of one History over one window. Each function names its anchor: the timestamp that puts
 * an item in the window. Failure evidence is read from the whole history, also after the window.
 */
import type { History } from './analysis.js';
import type { DeploymentKind } from './classify.js';
import type { LeadSample, ScopedBuild } from './history.js';
import { ratio, type Summary, summarize, summarizeInPlace } from './stats.js';
import { Buckets, bucketStart, DAY_MS, inWindow, iso, type Window } from './time.js';
import type { Bucket } from './types.js';

export const DEFAULT_ROLLBACK_SLO_MS = 60_000;
export const DEFAULT_BUILD_SLO_MS = 10 * 60_000;

export interface DeploymentFrequency {
  deployments: number;
  /** Included in `deployments`, and shown apart. */
  rollbacks: number;
  /** The raw rate: deployments (rollbacks included) ÷ the window's length in days. */
  perDay: number | null;
  buckets: { start: string; deployments: number; rollbacks: number }[];
  /** What the DORA band is read from (docs/metrics.md, "Deployment frequency"). */
  deploymentDays: DeploymentDays;
}

/**
 * Days with at least one successful deployment of a new change (a change, revert or fix-forward; not a
 * rollback or a redeploy), counted in whole weeks and whole 4-week periods of UTC days, counted back
 * from the window's last day.
 */
export interface DeploymentDays {
  /** Distinct UTC days of the window with a deployment of a new change. */
  days: number;
  /** Each whole week of the window, newest last, with its number of deployment days (0–7). */
  weeks: { start: string; days: number }[];
  /** Median of `weeks`; null when the window is shorter than a week. */
  medianPerWeek: number | null;
  /**
   * Each whole 4-week period of the window, newest last; a window shorter than four weeks (but at
   * least one) is one period.
   */
  months: { start: string; days: number }[];
  /** Median of `months`; null when the window is shorter than a week. */
  medianPerMonth: number | null;
}

const NOT_NEW: readonly DeploymentKind[] = ['rollback', 'redeploy'];

/** The start of the UTC day after t, or t when t is a UTC midnight. */
const dayCeil = (t: number) => Math.ceil(t / DAY_MS) * DAY_MS;

/** Counts deployment days per period of `size` days, counted back from the end of the window's last day. */
function periods(days: Set<number>, w: Window, size: number): { start: string; days: number }[] {
  const end = dayCeil(w.to);
  const out: { start: string; days: number }[] = [];
  for (let start = end - size * DAY_MS; start >= w.from; start -= size * DAY_MS) {
    let n = 0;
    for (let d = start; d < start + size * DAY_MS; d += DAY_MS) if (days.has(d)) n++;
    out.unshift({ start: iso(start), days: n });
  }
  return out;
}

export function deploymentDays(h: History, w: Window): DeploymentDays {
  const days = new Set<number>();
  for (const d of h.deployments)
    if (inWindow(d.finishedAt, w) && !NOT_NEW.includes(d.kind)) days.add(bucketStart(d.finishedAt, 'day'));
  const weeks = periods(days, w, 7);
  let months = periods(days, w, 28);
  if (!months.length && weeks.length)
    months = [
      { start: weeks[0]!.start, days: [...days].filter((d) => d >= Date.parse(weeks[0]!.start)).length },
    ];
  return {
    days: days.size,
    weeks,
    medianPerWeek: summarize(weeks.map((x) => x.days)).median,
    months,
    medianPerMonth: summarize(months.map((x) => x.days)).median,
  };
}

/** Anchor: deployment finished. */
export function deploymentFrequency(h: History, w: Window, bucket: Bucket): DeploymentFrequency {
  const inside = h.deployments.filter((d) => inWindow(d.finishedAt, w));
  const rollbacks = (ds: typeof inside) => ds.filter((d) => d.kind === 'rollback').length;
  const b = new Buckets(w, bucket);
  return {
    deployments: inside.length,
    rollbacks: rollbacks(inside),
    perDay: ratio(inside.length, (w.to - w.from) / DAY_MS),
    buckets: b
      .group(inside, (d) => d.finishedAt)
      .map((ds, i) => ({
        start: iso(b.starts[i]!),
        deployments: ds.length,
        rollbacks: rollbacks(ds),
      })),
    deploymentDays: deploymentDays(h, w),
  };
}

export interface LeadTimeStats extends Summary {
  /** Commits whose committed time is after their deployment finished: left out (clock skew). */
  clockSkew: number;
  buckets: ({ start: string } & Summary)[];
}

/**
 * Anchor: the finish of the commit's first successful deployment. `at` and `leadMs` are parallel
 * arrays, so a year of commits can be summarised without an object per commit.
 */
export function leadTimeStats(
  at: ArrayLike<number>,
  leadMs: ArrayLike<number>,
  w: Window,
  bucket: Bucket,
): LeadTimeStats {
  const b = new Buckets(w, bucket);
  const idx = new Int32Array(at.length);
  const counts = new Int32Array(b.starts.length);
  let clockSkew = 0;
  let n = 0;
  for (let i = 0; i < at.length; i++) {
    const k = b.index(at[i]!);
    idx[i] = k;
    if (k < 0) continue;
    if (leadMs[i]! < 0) {
      clockSkew++;
      idx[i] = -1;
      continue;
    }
    counts[k]!++;
    n++;
  }
  const all = new Float64Array(n);
  const per = [...counts].map((c) => new Float64Array(c));
  const fill = new Int32Array(b.starts.length);
  let j = 0;
  for (let i = 0; i < at.length; i++) {
    const k = idx[i]!;
    if (k < 0) continue;
    all[j++] = leadMs[i]!;
    per[k]![fill[k]!++] = leadMs[i]!;
  }
  return {
    ...summarizeInPlace(all),
    clockSkew,
    buckets: per.map((values, i) => ({ start: iso(b.starts[i]!), ...summarizeInPlace(values) })),
  };
}

export interface LeadTime extends LeadTimeStats {
  commits: { sha: string; deploymentId: string; leadTimeMs: number }[];
}

/** Lead time with the per-commit list (for events files and tests; a server summarises in SQL). */
export function leadTimeOf(samples: readonly LeadSample[], w: Window, bucket: Bucket = 'week'): LeadTime {
  const stats = leadTimeStats(
    samples.map((s) => s.at),
    samples.map((s) => s.leadMs),
    w,
    bucket,
  );
  const commits = samples
    .filter((s) => inWindow(s.at, w) && s.leadMs >= 0)
    .map((s) => ({ sha: s.sha, deploymentId: s.deploymentId, leadTimeMs: s.leadMs }))
    .sort((a, b) => (a.sha < b.sha ? -1 : 1));
  return { ...stats, commits };
}

export interface ChangeFailureRate {
  failed: number;
  deployments: number;
  rate: number | null;
  failedIds: string[];
}

/** Anchor: the deployment's finish. Evidence after the window (a late rollback) still counts. */
export function changeFailureRate(h: History, w: Window): ChangeFailureRate {
  const inside = h.deployments.filter((d) => inWindow(d.finishedAt, w));
  const failedIds = inside.filter((d) => h.failures.has(d.id)).map((d) => d.id);
  return {
    failed: failedIds.length,
    deployments: inside.length,
    rate: ratio(failedIds.length, inside.length),
    failedIds,
  };
}

export interface Recovery {
  deploymentId: string;
  /** The failed deployment's finish: the anchor. */
  finishedAt: number;
  /**
   * When the failure began: the deployment's finish, or the opening of an incident linked to it when
   * that came first (the deployment was still rolling out). Recovery is measured from here, so it is
   * never negative.
   */
  failedAt: number;
  recoveredAt: number | null;
  recoveryMs: number | null;
}

export interface RecoveryTime extends Summary {
  recoveries: Recovery[];
  /** Failed deployments neither remediated nor with all their incidents resolved. */
  open: string[];
}

/** Anchor: the failed deployment's finish. */
export function recoveryTime(h: History, w: Window): RecoveryTime {
  const recoveries: Recovery[] = [];
  for (const f of h.failures.values()) {
    if (!inWindow(f.finishedAt, w)) continue;
    const ends: number[] = [];
    if (f.remediatedBy) ends.push(f.remediatedBy.finishedAt);
    const resolved = f.incidents.map((i) => i.resolvedAt);
    if (resolved.length && resolved.every((t) => t !== null)) ends.push(Math.max(...(resolved as number[])));
    const end = ends.length ? Math.min(...ends) : null;
    // Incidents resolve no earlier than they open (input refuses the rest), and a remediation finishes
    // after the deployment it remediates: from the earliest start, every end is at or after it.
    const failedAt = Math.min(f.finishedAt, ...f.incidents.map((i) => i.openedAt));
    recoveries.push({
      deploymentId: f.id,
      finishedAt: f.finishedAt,
      failedAt,
      recoveredAt: end,
      recoveryMs: end === null ? null : Math.max(0, end - failedAt),
    });
  }
  recoveries.sort((a, b) => a.finishedAt - b.finishedAt || (a.deploymentId < b.deploymentId ? -1 : 1));
  const done = recoveries.flatMap((r) => (r.recoveryMs === null ? [] : [r.recoveryMs]));
  return {
    ...summarize(done),
    recoveries,
    open: recoveries.filter((r) => r.recoveryMs === null).map((r) => r.deploymentId),
  };
}

export interface TimeToRestore extends Summary {
  open: string[];
  /** Incidents resolved before they were opened: left out. */
  outOfOrder: string[];
}

/** Classic MTTR-style view. Anchor: the incident's opening. */
export function timeToRestore(h: History, w: Window): TimeToRestore {
  const inside = h.incidents.filter((i) => inWindow(i.openedAt, w));
  const bad = inside.filter((i) => i.resolvedAt !== null && i.resolvedAt < i.openedAt);
  const done = inside.flatMap((i) =>
    i.resolvedAt === null || i.resolvedAt < i.openedAt ? [] : [i.resolvedAt - i.openedAt],
  );
  return {
    ...summarize(done),
    open: inside.filter((i) => i.resolvedAt === null).map((i) => i.id),
    outOfOrder: bad.map((i) => i.id),
  };
}

const REMEDIATING: readonly DeploymentKind[] = ['rollback', 'revert', 'fix-forward'];

export interface ReworkRate {
  remediating: number;
  deployments: number;
  rate: number | null;
  byKind: Record<'rollback' | 'revert' | 'fix-forward', number>;
  /**
   * Rollbacks (by SHA) that remediate nothing: re-deploying newer code after a rollback. Counted among
   * the rollbacks of deployment frequency, not as rework.
   */
  rollForwards: number;
}

/** Anchor: the deployment's finish. */
export function reworkRate(h: History, w: Window): ReworkRate {
  const inside = h.deployments.filter((d) => inWindow(d.finishedAt, w));
  const remediating = inside.filter((d) => REMEDIATING.includes(d.kind) && d.remediatesIds.length > 0);
  const count = (k: DeploymentKind) => remediating.filter((d) => d.kind === k).length;
  return {
    remediating: remediating.length,
    deployments: inside.length,
    rate: ratio(remediating.length, inside.length),
    byKind: { rollback: count('rollback'), revert: count('revert'), 'fix-forward': count('fix-forward') },
    rollForwards: inside.filter((d) => d.kind === 'rollback' && d.remediatesIds.length === 0).length,
  };
}

export interface SloReport extends Summary {
  sloMs: number;
  withinSlo: number;
  /** Share of all counted items within the SLO; failures are breaches. */
  withinSloShare: number | null;
  breaches: string[];
}

export interface RollbackTime extends SloReport {
  failed: number;
  /** Each rollback, for charts: requested time and duration (null when it failed). */
  points: { id: string; requestedAt: string; durationMs: number | null }[];
}

/**
 * A rollback is a deployment triggered as one (any outcome) or a successful deployment of an earlier
 * SHA. Anchor: requested. Durations (requested → finished) come from successful rollbacks only.
 */
export function rollbackTime(h: History, w: Window, sloMs = DEFAULT_ROLLBACK_SLO_MS): RollbackTime {
  const all = new Map(h.rollbackAttempts.map((r) => [r.id, r]));
  for (const d of h.deployments) {
    if (d.kind === 'rollback' && !all.has(d.id))
      all.set(d.id, { id: d.id, succeeded: true, requestedAt: d.requestedAt, finishedAt: d.finishedAt });
  }
  const rollbacks = [...all.values()]
    .filter((r) => inWindow(r.requestedAt, w))
    .sort((a, b) => a.requestedAt - b.requestedAt || (a.id < b.id ? -1 : 1));
  const duration = (r: (typeof rollbacks)[number]) => (r.succeeded ? r.finishedAt - r.requestedAt : null);
  const durations = rollbacks.flatMap((r) => (r.succeeded ? [r.finishedAt - r.requestedAt] : []));
  const within = new Set(rollbacks.filter((r) => r.succeeded && duration(r)! <= sloMs));
  return {
    ...summarize(durations),
    sloMs,
    withinSlo: within.size,
    withinSloShare: ratio(within.size, rollbacks.length),
    breaches: rollbacks.filter((r) => !within.has(r)).map((r) => r.id),
    failed: rollbacks.filter((r) => !r.succeeded).length,
    points: rollbacks.map((r) => ({ id: r.id, requestedAt: iso(r.requestedAt), durationMs: duration(r) })),
  };
}

export interface BuildTime extends SloReport {
  queue: Summary;
  buckets: ({ start: string } & Summary)[];
}

/**
 * Anchor: the build's finish. Cancelled and superseded builds are left out. Each build is held to its
 * own SLO (gantry.yaml `build.timeout` when it ran) unless `sloMs` is given for all; the report's
 * `sloMs` is that value, else the newest build's, else the default.
 */
export function buildTime(h: History, w: Window, sloMs?: number, bucket: Bucket = 'week'): BuildTime {
  const b = new Buckets(w, bucket);
  const perBucket = b.starts.map((): number[] => []);
  const durations: number[] = [];
  const queue: number[] = [];
  const breaches: ScopedBuild[] = [];
  let newest: ScopedBuild | undefined;
  for (const x of h.builds) {
    const k = b.index(x.finishedAt);
    if (k < 0) continue;
    const d = x.finishedAt - x.startedAt;
    durations.push(d);
    queue.push(x.startedAt - x.queuedAt);
    perBucket[k]!.push(d);
    if (d > (sloMs ?? x.sloMs ?? DEFAULT_BUILD_SLO_MS)) breaches.push(x);
    if (
      !newest ||
      x.finishedAt > newest.finishedAt ||
      (x.finishedAt === newest.finishedAt && x.id > newest.id)
    )
      newest = x;
  }
  breaches.sort((p, q) => p.finishedAt - q.finishedAt || (p.id < q.id ? -1 : 1));
  const within = durations.length - breaches.length;
  return {
    ...summarizeInPlace(Float64Array.from(durations)),
    sloMs: sloMs ?? newest?.sloMs ?? DEFAULT_BUILD_SLO_MS,
    withinSlo: within,
    withinSloShare: ratio(within, durations.length),
    breaches: breaches.map((x) => x.id),
    queue: summarizeInPlace(Float64Array.from(queue)),
    buckets: perBucket.map((xs, i) => ({
      start: iso(b.starts[i]!),
      ...summarizeInPlace(Float64Array.from(xs)),
    })),
  };
}

/**
 * The one count of releases (docs/metrics.md, "Release frequency"): the times a change reached users
 * without a deployment. `releases` = `releasesApplied` + `togglesOn`, and it is what the headline, the
 * CLI, the HTML report and Prometheus (`gantry_releases_total`, summed over `kind`) all count.
 */
export interface ReleaseFrequency {
  releases: number;
  /** Releases applied: each counts once, however many toggles it changed. */
  releasesApplied: number;
  /** Toggles switched on outside a release; a release's own changes and reverts are not counted here. */
  togglesOn: number;
  buckets: { start: string; releases: number; releasesApplied: number; togglesOn: number }[];
}

/** Counted apart from deployments and never summed into them. Anchors: applied, switched on. */
export function releaseFrequency(h: History, w: Window, bucket: Bucket): ReleaseFrequency {
  const b = new Buckets(w, bucket);
  const r = b.group(h.releases, (x) => x.at);
  const t = b.group(h.togglesOn, (x) => x);
  const releasesApplied = r.reduce((s, xs) => s + xs.length, 0);
  const togglesOn = t.reduce((s, xs) => s + xs.length, 0);
  return {
    releases: releasesApplied + togglesOn,
    releasesApplied,
    togglesOn,
    buckets: b.starts.map((start, i) => ({
      start: iso(start),
      releases: r[i]!.length + t[i]!.length,
      releasesApplied: r[i]!.length,
      togglesOn: t[i]!.length,
    })),
  };
}
