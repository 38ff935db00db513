import type {
  CommitEvent,
  DeploymentEvent,
  IncidentEvent,
  MetricsInput,
} from '../../src/features/metrics/engine/index.js';

export const HOUR = 60 * 60 * 1000;
export const DAY = 24 * HOUR;
/** 2024-01-01 is a Monday. */
export const T0 = Date.UTC(2024, 0, 1);

export const at = (day: number, hours = 0, minutes = 0, seconds = 0): string =>
  new Date(T0 + day * DAY + hours * HOUR + minutes * 60_000 + seconds * 1000).toISOString();

export const sha = (n: number): string => `${n}`.padStart(40, '0');

/** A linear history: commit n's parent is commit n - 1. */
export const commit = (n: number, committedAt: string, message = `change ${n}`): CommitEvent => ({
  sha: sha(n),
  parents: n > 1 ? [sha(n - 1)] : [],
  committedAt,
  message,
});

export const deploy = (
  id: string,
  n: number,
  finishedAt: string,
  extra: Partial<DeploymentEvent> = {},
): DeploymentEvent => ({
  id,
  app: 'web',
  env: 'production',
  sha: sha(n),
  status: 'succeeded',
  trigger: 'auto',
  requestedAt: finishedAt,
  startedAt: finishedAt,
  finishedAt,
  ...extra,
});

export const incident = (
  id: string,
  openedAt: string,
  extra: Partial<IncidentEvent> = {},
): IncidentEvent => ({
  id,
  app: 'web',
  env: 'production',
  openedAt,
  ...extra,
});

export const input = (parts: Partial<MetricsInput>): MetricsInput => ({
  commits: [],
  deployments: [],
  incidents: [],
  builds: [],
  ...parts,
});

export const week = { app: 'web', from: at(0), to: at(7) };
