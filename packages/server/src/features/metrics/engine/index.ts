/**
 * The metrics engine. Pure code: no database, no clock. Two ways in:
 * - `analyze(events)` then `metricsReport(history, lead, options)`: what the server and the CLI use;
 * - the functions below take an events list and a scope and return one metric each (tests, scripts).
 */
import { analyze, combineHistories } from './analysis.js';
import { bandFor } from './bands.js';
import * as m from './metrics.js';
import { type MetricsReport, metricsReport, previousWindow, type ReportOptions } from './report.js';
import { toWindow } from './time.js';
import type { Bucket, MetricsInput, Scope } from './types.js';

export { analyze, combineHistories, type History, historyFrom, type ScopeKey } from './analysis.js';
export { BANDS_SOURCE, type Band, type Bands, bandFor, type KeyValues } from './bands.js';
export type {
  Classification,
  ClassifiedDeployment,
  DeploymentKind,
  FailedDeployment,
  FailureReason,
} from './classify.js';
export { changeSet, type GraphSource, MemoryGraph } from './graph.js';
export {
  type FactDeployment,
  type LeadSample,
  type RollbackAttempt,
  type ScopedBuild,
  type ScopedIncident,
  scopedIncidents,
} from './history.js';
export {
  type DeploymentFacts,
  type LedgerState,
  MemoryLedgerState,
  nextFacts,
  type Shipment,
} from './ledger.js';
export {
  type BuildTime,
  type ChangeFailureRate,
  DEFAULT_BUILD_SLO_MS,
  DEFAULT_ROLLBACK_SLO_MS,
  type DeploymentDays,
  type DeploymentFrequency,
  type LeadTime,
  type LeadTimeStats,
  leadTimeStats,
  type RecoveryTime,
  type ReleaseFrequency,
  type ReworkRate,
  type RollbackTime,
  type TimeToRestore,
} from './metrics.js';
export {
  type Headline,
  type MetricsReport,
  metricsReport,
  previousWindow,
  type ReportOptions,
  type SeriesPoint,
  type Trend,
} from './report.js';
export { quantile, type Summary, summarize } from './stats.js';
export { toWindow, type Window } from './time.js';
export * from './types.js';

const over = async (input: MetricsInput, scope: Scope) => ({
  ...(await analyze(input, scope)),
  w: toWindow(scope.from, scope.to),
});

export async function classifyDeployments(input: MetricsInput, scope: Omit<Scope, 'from' | 'to'>) {
  const { history } = await analyze(input, scope);
  return { deployments: history.deployments, failures: history.failures };
}

export const leadTime = async (input: MetricsInput, scope: Scope & { bucket?: Bucket }) => {
  const { leadSamples, w } = await over(input, scope);
  return m.leadTimeOf(leadSamples, w, scope.bucket);
};
export const deploymentFrequency = async (input: MetricsInput, scope: Scope & { bucket: Bucket }) => {
  const { history, w } = await over(input, scope);
  return { bucket: scope.bucket, ...m.deploymentFrequency(history, w, scope.bucket) };
};
export const changeFailureRate = async (input: MetricsInput, scope: Scope) => {
  const { history, w } = await over(input, scope);
  return m.changeFailureRate(history, w);
};
export const recoveryTime = async (input: MetricsInput, scope: Scope) => {
  const { history, w } = await over(input, scope);
  return m.recoveryTime(history, w);
};
export const timeToRestore = async (input: MetricsInput, scope: Scope) => {
  const { history, w } = await over(input, scope);
  return m.timeToRestore(history, w);
};
export const reworkRate = async (input: MetricsInput, scope: Scope) => {
  const { history, w } = await over(input, scope);
  return m.reworkRate(history, w);
};
export const rollbackTime = async (input: MetricsInput, scope: Scope & { sloMs?: number }) => {
  const { history, w } = await over(input, scope);
  return m.rollbackTime(history, w, scope.sloMs);
};
export const buildTime = async (input: MetricsInput, scope: Omit<Scope, 'env'> & { sloMs?: number }) => {
  const { history, w } = await over(input, scope);
  return m.buildTime(history, w, scope.sloMs);
};
export const releaseFrequency = async (input: MetricsInput, scope: Scope & { bucket: Bucket }) => {
  const { history, w } = await over(input, scope);
  return { bucket: scope.bucket, ...m.releaseFrequency(history, w, scope.bucket) };
};

/** The full report from an events list: `gantry metrics --events <file>`. */
export async function reportFromEvents(
  input: MetricsInput,
  scope: Omit<Scope, 'from' | 'to'> & ReportOptions,
): Promise<MetricsReport> {
  const { history, leadSamples } = await analyze(input, scope);
  const prev = previousWindow(scope.from, scope.to);
  const lead = (from: string, to: string) => m.leadTimeOf(leadSamples, toWindow(from, to), scope.bucket);
  const { commits: _c, ...current } = lead(scope.from, scope.to);
  const { commits: _p, ...previous } = lead(prev.from, prev.to);
  return metricsReport(history, { current, previous }, scope);
}

/**
 * The report of every app in the events together (pooled): `gantry metrics --all-apps --events`.
 * Each app is classified on its own; the figures are then taken over all of them.
 */
export async function pooledReportFromEvents(
  input: MetricsInput,
  scope: Omit<Scope, 'from' | 'to' | 'app'> & ReportOptions,
): Promise<MetricsReport> {
  const apps = [...new Set(input.deployments.map((d) => d.app))].sort();
  const parts = await Promise.all(apps.map((app) => analyze(input, { ...scope, app })));
  const history = combineHistories(parts.map((p) => p.history));
  const samples = parts.flatMap((p) => p.leadSamples);
  const prev = previousWindow(scope.from, scope.to);
  const lead = (from: string, to: string) => m.leadTimeOf(samples, toWindow(from, to), scope.bucket);
  const { commits: _c, ...current } = lead(scope.from, scope.to);
  const { commits: _p, ...previous } = lead(prev.from, prev.to);
  return metricsReport(history, { current, previous }, scope);
}

export async function bands(input: MetricsInput, scope: Scope) {
  const r = await reportFromEvents(input, { ...scope, bucket: 'week' });
  return bandFor(r.bands.values);
}
