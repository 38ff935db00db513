import type { History } from './analysis.js';
import { type Bands, bandFor } from './bands.js';
import {
  type BuildTime,
  buildTime,
  type ChangeFailureRate,
  changeFailureRate,
  DEFAULT_ROLLBACK_SLO_MS,
  type DeploymentFrequency,
  deploymentFrequency,
  type LeadTimeStats,
  type RecoveryTime,
  type ReleaseFrequency,
  type ReworkRate,
  type RollbackTime,
  recoveryTime,
  releaseFrequency,
  reworkRate,
  rollbackTime,
  type TimeToRestore,
  timeToRestore,
} from './metrics.js';
import { ratio, summarize } from './stats.js';
import { Buckets, iso, toWindow, type Window } from './time.js';
import type { Bucket } from './types.js';

export interface ReportOptions {
  from: string;
  to: string;
  bucket: Bucket;
  rollbackSloMs?: number;
  buildSloMs?: number;
}

/** The headline numbers, compared against the previous window of the same length. */
export interface Headline {
  /** Median days with a deployment of a new change per whole week: the basis of the DORA band. */
  deploymentDaysPerWeek: number | null;
  /** The raw rate, rollbacks included. */
  deploymentsPerDay: number | null;
  leadTimeMedianMs: number | null;
  changeFailureRate: number | null;
  recoveryMedianMs: number | null;
  /** Incidents opened → resolved (the classic MTTR view), median. */
  timeToRestoreMedianMs: number | null;
  reworkRate: number | null;
  rollbackP95Ms: number | null;
  buildP95Ms: number | null;
  releases: number;
}

export type TrendDirection = 'better' | 'worse' | 'same' | null;

export interface Trend {
  current: number | null;
  previous: number | null;
  /** current − previous; null when either is missing. */
  change: number | null;
  direction: TrendDirection;
}

export interface SeriesPoint {
  start: string;
  deployments: number;
  rollbacks: number;
  failed: number;
  changeFailureRate: number | null;
  leadTimeMedianMs: number | null;
  recoveryMedianMs: number | null;
  /** releasesApplied + togglesOn: the one count of releases (ReleaseFrequency). */
  releases: number;
  releasesApplied: number;
  togglesOn: number;
  buildP50Ms: number | null;
  buildP95Ms: number | null;
}

export interface MetricsReport {
  app: string;
  env: string;
  from: string;
  to: string;
  bucket: Bucket;
  definitions: string;
  deploymentFrequency: DeploymentFrequency;
  leadTime: LeadTimeStats;
  changeFailureRate: ChangeFailureRate;
  recoveryTime: RecoveryTime;
  timeToRestore: TimeToRestore;
  reworkRate: ReworkRate;
  rollbackTime: RollbackTime;
  buildTime: BuildTime;
  releaseFrequency: ReleaseFrequency;
  bands: Bands;
  previous: { from: string; to: string; headline: Headline };
  trend: Record<keyof Headline, Trend>;
  series: SeriesPoint[];
  /** Records left out by a documented rule (docs/metrics.md, "Bad input"), counted so nothing is silent. */
  skipped: {
    /** Distinct SHAs deployed in the window that are missing from the commit graph (no lead time). */
    unknownShas: number;
    clockSkew: number;
    incidentsOutOfOrder: number;
  };
}

/** Higher is better for these; lower is better for the rest. */
const HIGHER_IS_BETTER = new Set<keyof Headline>(['deploymentDaysPerWeek', 'deploymentsPerDay', 'releases']);

function headline(
  h: History,
  w: Window,
  lead: LeadTimeStats,
  o: ReportOptions,
): {
  headline: Headline;
  parts: Omit<
    MetricsReport,
    | 'app'
    | 'env'
    | 'from'
    | 'to'
    | 'bucket'
    | 'definitions'
    | 'bands'
    | 'previous'
    | 'trend'
    | 'series'
    | 'skipped'
  >;
} {
  const parts = {
    deploymentFrequency: deploymentFrequency(h, w, o.bucket),
    leadTime: lead,
    changeFailureRate: changeFailureRate(h, w),
    recoveryTime: recoveryTime(h, w),
    timeToRestore: timeToRestore(h, w),
    reworkRate: reworkRate(h, w),
    rollbackTime: rollbackTime(h, w, o.rollbackSloMs ?? DEFAULT_ROLLBACK_SLO_MS),
    buildTime: buildTime(h, w, o.buildSloMs, o.bucket),
    releaseFrequency: releaseFrequency(h, w, o.bucket),
  };
  return {
    parts,
    headline: {
      deploymentDaysPerWeek: parts.deploymentFrequency.deploymentDays.medianPerWeek,
      deploymentsPerDay: parts.deploymentFrequency.perDay,
      leadTimeMedianMs: lead.median,
      changeFailureRate: parts.changeFailureRate.rate,
      recoveryMedianMs: parts.recoveryTime.median,
      timeToRestoreMedianMs: parts.timeToRestore.median,
      reworkRate: parts.reworkRate.rate,
      rollbackP95Ms: parts.rollbackTime.p95,
      buildP95Ms: parts.buildTime.p95,
      releases: parts.releaseFrequency.releases,
    },
  };
}

export function trendOf(key: keyof Headline, current: number | null, previous: number | null): Trend {
  if (current === null || previous === null) return { current, previous, change: null, direction: null };
  const change = current - previous;
  const up = HIGHER_IS_BETTER.has(key);
  const direction: TrendDirection = change === 0 ? 'same' : change > 0 === up ? 'better' : 'worse';
  return { current, previous, change, direction };
}

/** The previous window of the same length, ending where this one starts. */
export function previousWindow(from: string, to: string): { from: string; to: string } {
  const w = toWindow(from, to);
  return { from: iso(w.from - (w.to - w.from)), to: from };
}

/**
 * Every metric of one app's environment over [from, to), with the DORA bands, the trend against the
 * previous window and one series point per bucket (for charts). Lead times come summarised, for this
 * window and the previous one, because the source decides how to summarise a million of them.
 */
export function metricsReport(
  h: History,
  lead: { current: LeadTimeStats; previous: LeadTimeStats },
  o: ReportOptions,
): MetricsReport {
  const w = toWindow(o.from, o.to);
  const prev = previousWindow(o.from, o.to);
  const now = headline(h, w, lead.current, o);
  const before = headline(h, toWindow(prev.from, prev.to), lead.previous, o);
  const trend = Object.fromEntries(
    (Object.keys(now.headline) as (keyof Headline)[]).map((k) => [
      k,
      trendOf(k, now.headline[k], before.headline[k]),
    ]),
  ) as Record<keyof Headline, Trend>;

  const b = new Buckets(w, o.bucket);
  const deployments = b.group(
    h.deployments.filter((d) => d.finishedAt >= w.from && d.finishedAt < w.to),
    (d) => d.finishedAt,
  );
  const recoveries = b.group(now.parts.recoveryTime.recoveries, (r) => r.finishedAt);
  const series: SeriesPoint[] = b.starts.map((start, i) => {
    const ds = deployments[i]!;
    const failed = ds.filter((d) => h.failures.has(d.id)).length;
    const rec = recoveries[i]!.flatMap((r) => (r.recoveryMs === null ? [] : [r.recoveryMs]));
    const build = now.parts.buildTime.buckets[i]!;
    const rel = now.parts.releaseFrequency.buckets[i]!;
    return {
      start: iso(start),
      deployments: ds.length,
      rollbacks: ds.filter((d) => d.kind === 'rollback').length,
      failed,
      changeFailureRate: ratio(failed, ds.length),
      leadTimeMedianMs: lead.current.buckets[i]?.median ?? null,
      recoveryMedianMs: summarize(rec).median,
      releases: rel.releases,
      releasesApplied: rel.releasesApplied,
      togglesOn: rel.togglesOn,
      buildP50Ms: build.median,
      buildP95Ms: build.p95,
    };
  });

  return {
    app: h.app,
    env: h.env,
    from: o.from,
    to: o.to,
    bucket: o.bucket,
    definitions: 'docs/metrics.md',
    ...now.parts,
    bands: bandFor({
      deploymentsPerDay: now.headline.deploymentsPerDay,
      deploymentDaysPerWeek: now.parts.deploymentFrequency.deploymentDays.medianPerWeek,
      deploymentDaysPerMonth: now.parts.deploymentFrequency.deploymentDays.medianPerMonth,
      leadTimeMedianMs: now.headline.leadTimeMedianMs,
      changeFailureRate: now.headline.changeFailureRate,
      recoveryMedianMs: now.headline.recoveryMedianMs,
    }),
    previous: { ...prev, headline: before.headline },
    trend,
    series,
    skipped: {
      unknownShas: new Set(
        h.deployments
          .filter((d) => !d.knownSha && d.finishedAt >= w.from && d.finishedAt < w.to)
          .map((d) => d.sha),
      ).size,
      clockSkew: lead.current.clockSkew,
      incidentsOutOfOrder: now.parts.timeToRestore.outOfOrder.length,
    },
  };
}
