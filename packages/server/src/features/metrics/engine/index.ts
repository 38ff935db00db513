export { BANDS_SOURCE, type Band, type Bands, bandFor, bands, type KeyValues } from './bands.js';
export {
  type Classification,
  type ClassifiedDeployment,
  classifyDeployments,
  type DeploymentKind,
  type FailedDeployment,
  type FailureReason,
} from './classify.js';
export {
  type ChangeFailureRate,
  changeFailureRate,
  type RecoveryTime,
  type ReworkRate,
  recoveryTime,
  reworkRate,
  type TimeToRestore,
  timeToRestore,
} from './failures.js';
export { type DeploymentFrequency, deploymentFrequency } from './frequency.js';
export { type LeadTime, leadTime } from './lead-time.js';
export { type ReleaseFrequency, releaseFrequency } from './releases.js';
export {
  type BuildTime,
  buildTime,
  DEFAULT_BUILD_SLO_MS,
  DEFAULT_ROLLBACK_SLO_MS,
  type RollbackTime,
  rollbackTime,
} from './slo.js';
export { quantile, type Summary, summarize } from './stats.js';
export * from './types.js';
