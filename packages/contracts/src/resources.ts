/** API resources as the HTTP API returns them (camelCase, ISO-8601 UTC times). */
export interface App {
  id: string;
  name: string;
  repoUrl: string;
  branch: string;
  pollIntervalMs: number;
  headSha: string | null;
  createdAt: string;
}

export interface Commit {
  appId: string;
  sha: string;
  parents: string[];
  authorName: string;
  authorEmail: string;
  authoredAt: string;
  committedAt: string;
  message: string;
  seenAt: string;
  pushId: string | null;
}

export const buildStatuses = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'superseded',
  'interrupted',
] as const;
export type BuildStatus = (typeof buildStatuses)[number];
export const finishedBuildStatuses: readonly BuildStatus[] = [
  'succeeded',
  'failed',
  'cancelled',
  'superseded',
  'interrupted',
];

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface BuildStep {
  idx: number;
  name: string;
  run: string;
  status: StepStatus;
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number | null;
  durationMs: number | null;
}

export interface Build {
  id: string;
  appId: string;
  app: string;
  sha: string;
  status: BuildStatus;
  reason: string;
  requestedBy: string;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  attempt: number;
  sloMs: number;
  sloBreached: boolean;
  exitCode: number | null;
  error: string | null;
  artifactId: string | null;
  steps?: BuildStep[];
}

export interface Artifact {
  id: string;
  appId: string;
  app: string;
  sha: string;
  digest: string;
  size: number;
  buildId: string;
  createdAt: string;
  current: boolean;
  prunedAt: string | null;
}
