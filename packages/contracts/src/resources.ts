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

/**
 * Where an app's images go instead of the server's registry (GANTRY_REGISTRY). Set by an admin
 * (`gantry app registry`), never by gantry.yaml: a commit must not choose where credentials are sent.
 * The password is named, never stored: an environment variable of the server, or a file.
 *
 * @example
 * const r: AppRegistry = { url: 'registry.example.com/team', insecure: false, username: 'ci', passwordEnv: 'SHOP_REGISTRY_PASSWORD', passwordFile: null };
 */
export interface AppRegistry {
  /** `host[:port][/prefix]`; images go to `<host>/<prefix>/<app>` unless build.image.repository says otherwise. */
  url: string;
  /** Plain HTTP (or TLS without verification): only when asked. */
  insecure: boolean;
  username: string | null;
  passwordEnv: string | null;
  passwordFile: string | null;
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

export const artifactKinds = ['tarball', 'image'] as const;
/** A tar.gz kept by Gantry, or an OCI image kept in a registry. */
export type ArtifactKind = (typeof artifactKinds)[number];

/**
 * The output of one build. `digest` is the sha256 of the tar.gz, or of the image manifest (the digest
 * the registry reports); `size` is the tar.gz's bytes, or the image's config and layers as stored.
 *
 * @example
 * const a: Artifact = { id: 'art_1', appId: 'app_1', app: 'shop', sha: 'c0ffee…', kind: 'image', digest: 'sha256:ab…', reference: 'registry.example.com/shop@sha256:ab…', size: 4_200_000, buildId: 'bld_1', createdAt: '2026-01-01T00:00:00.000Z', current: true, prunedAt: null };
 */
export interface Artifact {
  id: string;
  appId: string;
  app: string;
  sha: string;
  kind: ArtifactKind;
  digest: string;
  /** Images only: `<registry>/<repository>@sha256:…`, always by digest; null for a tarball. */
  reference: string | null;
  size: number;
  buildId: string;
  createdAt: string;
  current: boolean;
  prunedAt: string | null;
}

export const deploymentTriggers = ['auto', 'tag', 'cli', 'api', 'rollback', 'recovered'] as const;
export type DeploymentTrigger = (typeof deploymentTriggers)[number];

export const deploymentStatuses = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'rejected',
  'superseded',
  'interrupted',
] as const;
export type DeploymentStatus = (typeof deploymentStatuses)[number];
export const finishedDeploymentStatuses: readonly DeploymentStatus[] = [
  'succeeded',
  'failed',
  'rejected',
  'superseded',
  'interrupted',
];

export interface DeploymentPhase {
  name: string;
  startedAt: string;
  ms: number | null;
}

export interface Deployment {
  id: string;
  appId: string;
  app: string;
  env: string;
  sha: string;
  previousSha: string | null;
  artifactId: string | null;
  digest: string | null;
  trigger: DeploymentTrigger;
  actor: string;
  reason: string | null;
  tag: string | null;
  forced: boolean;
  /** The failed deployment this one fixes, when its author said so (counts as remediation in metrics). */
  remediates: string | null;
  status: DeploymentStatus;
  /** noop, switch (a warm standby took over) or start (the release booted). */
  kind: string | null;
  phases: DeploymentPhase[];
  error: string | null;
  requestedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Place in the environment's queue (1 = next) while queued. */
  position?: number;
}

/**
 * Which release a rollback picked and why (in the rollback route's answer): the newest release the
 * environment ran healthy before `from`, skipping releases rolled back from, failed or held, unless
 * `--to` named one.
 */
export interface RollbackChoice {
  from: string;
  to: string;
  why: string;
  skipped: { sha: string; why: string }[];
}

export interface EnvironmentState {
  app: string;
  env: string;
  port: number;
  url: string;
  driver: string;
  protected: boolean;
  autoDeploy: boolean;
  promoteFrom: string | null;
  current: Deployment | null;
  health: { healthy: boolean; sha: string | null; detail?: string } | null;
  commit: { message: string; committedAt: string; authorName: string } | null;
  lock: { by: string; reason: string | null; since: string } | null;
  hold: { sha: string; reason: string | null; since: string } | null;
  queue: Deployment[];
  /**
   * The newest deployment a server stop cut short, when nothing succeeded after it, and the one
   * deployment that ran it again (null when none did: a newer request existed, or it was a retry).
   */
  interrupted?: { deployment: Deployment; retry: Deployment | null } | null;
}

/**
 * Something went wrong in an app's environment: opened by a person or a tool, resolved once.
 * Linked to the deployment that caused it when known; the metrics count it as a change failure
 * and its open → resolved time as time to restore.
 *
 * @example
 * const i: Incident = { id: 'inc_1', app: 'shop', env: 'production', deploymentId: 'dep_1', title: 'Checkout 500s', openedAt: '2026-01-01T10:00:00.000Z', openedBy: 'ann (token:admin)', resolvedAt: null, resolvedBy: null };
 */
export interface Incident {
  id: string;
  /** The app's name. */
  app: string;
  env: string;
  deploymentId: string | null;
  title: string;
  openedAt: string;
  openedBy: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
}
