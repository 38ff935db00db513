import { classifyDeployments } from './classify.js';
import { ratio, type Summary, summarize } from './stats.js';
import { inWindow, ms, toWindow } from './time.js';
import { DEFAULT_ENV, type MetricsInput, type Scope } from './types.js';

export const DEFAULT_ROLLBACK_SLO_MS = 60_000;
export const DEFAULT_BUILD_SLO_MS = 10 * 60_000;

export interface SloReport extends Summary {
  sloMs: number;
  withinSlo: number;
  /** Share of all counted items within the SLO; failures are breaches. */
  withinSloShare: number | null;
  breaches: string[];
}

export interface RollbackTime extends SloReport {
  failed: number;
}

/**
 * A rollback is a deployment triggered as one, or a successful deployment of an earlier SHA.
 * Anchor: requested. Durations (requested → finished) come from successful rollbacks only.
 */
export function rollbackTime(input: MetricsInput, scope: Scope & { sloMs?: number }): RollbackTime {
  const w = toWindow(scope.from, scope.to);
  const sloMs = scope.sloMs ?? DEFAULT_ROLLBACK_SLO_MS;
  const env = scope.env ?? DEFAULT_ENV;
  const bySha = new Set(
    classifyDeployments(input, scope)
      .deployments.filter((d) => d.kind === 'rollback')
      .map((d) => d.id),
  );
  const rollbacks = input.deployments.filter(
    (d) =>
      d.app === scope.app &&
      d.env === env &&
      d.finishedAt &&
      (d.trigger === 'rollback' || bySha.has(d.id)) &&
      inWindow(ms(d.requestedAt), w),
  );
  const ok = rollbacks.filter((d) => d.status === 'succeeded');
  const durations = new Map(ok.map((d) => [d.id, ms(d.finishedAt!) - ms(d.requestedAt)]));
  const within = ok.filter((d) => durations.get(d.id)! <= sloMs);
  return {
    ...summarize([...durations.values()]),
    sloMs,
    withinSlo: within.length,
    withinSloShare: ratio(within.length, rollbacks.length),
    breaches: rollbacks.filter((d) => !within.includes(d)).map((d) => d.id),
    failed: rollbacks.length - ok.length,
  };
}

export interface BuildTime extends SloReport {
  queue: Summary;
}

const EXCLUDED_BUILDS = new Set(['cancelled', 'superseded', 'queued', 'running']);

/** Anchor: the build's finish. Cancelled and superseded builds are excluded. */
export function buildTime(input: MetricsInput, scope: Omit<Scope, 'env'> & { sloMs?: number }): BuildTime {
  const w = toWindow(scope.from, scope.to);
  const sloMs = scope.sloMs ?? DEFAULT_BUILD_SLO_MS;
  const builds = input.builds.filter(
    (b) =>
      b.app === scope.app &&
      !EXCLUDED_BUILDS.has(b.status) &&
      b.startedAt &&
      b.finishedAt &&
      inWindow(ms(b.finishedAt), w),
  );
  const duration = (b: (typeof builds)[number]) => ms(b.finishedAt!) - ms(b.startedAt!);
  const within = builds.filter((b) => duration(b) <= sloMs);
  return {
    ...summarize(builds.map(duration)),
    sloMs,
    withinSlo: within.length,
    withinSloShare: ratio(within.length, builds.length),
    breaches: builds.filter((b) => duration(b) > sloMs).map((b) => b.id),
    queue: summarize(builds.map((b) => ms(b.startedAt!) - ms(b.queuedAt))),
  };
}
