import { z } from 'zod';
import { deploymentStatuses, verificationStatuses } from './deployment-statuses.js';

export {
  type DeploymentStatus,
  deploymentStatuses,
  finishedDeploymentStatuses,
  type VerificationStatus,
  verificationStatuses,
} from './deployment-statuses.js';

/**
 * API resources as the HTTP API returns them (camelCase, ISO-8601 UTC times). Each is a zod schema
 * (`appSchema`, …) that the routes declare as their response, so the OpenAPI document describes it,
 * and a type of the same name inferred from it.
 */
export const appSchema = z.object({
  id: z.string(),
  name: z.string(),
  repoUrl: z.string(),
  branch: z.string(),
  pollIntervalMs: z.number(),
  headSha: z.string().nullable(),
  createdAt: z.string(),
});
export type App = z.infer<typeof appSchema>;

/**
 * Where an app's images go instead of the server's registry (GANTRY_REGISTRY). Set by an admin
 * (`gantry app registry`), never by gantry.yaml: a commit must not choose where credentials are sent.
 * The password is named, never stored: an environment variable of the server, or a file.
 *
 * @example
 * const r: AppRegistry = { url: 'registry.example.com/team', insecure: false, username: 'ci', passwordEnv: 'SHOP_REGISTRY_PASSWORD', passwordFile: null };
 */
export const appRegistrySchema = z.object({
  /** `host[:port][/prefix]`; images go to `<host>/<prefix>/<app>` unless build.image.repository says otherwise. */
  url: z.string(),
  /** Plain HTTP (or TLS without verification): only when asked. */
  insecure: z.boolean(),
  username: z.string().nullable(),
  passwordEnv: z.string().nullable(),
  passwordFile: z.string().nullable(),
});
export type AppRegistry = z.infer<typeof appRegistrySchema>;

export const commitSchema = z.object({
  appId: z.string(),
  sha: z.string(),
  parents: z.array(z.string()),
  authorName: z.string(),
  authorEmail: z.string(),
  authoredAt: z.string(),
  committedAt: z.string(),
  message: z.string(),
  seenAt: z.string(),
  pushId: z.string().nullable(),
});
export type Commit = z.infer<typeof commitSchema>;

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

export const stepStatuses = ['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'] as const;
export type StepStatus = (typeof stepStatuses)[number];

export const buildStepSchema = z.object({
  idx: z.number(),
  name: z.string(),
  run: z.string(),
  status: z.enum(stepStatuses),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  exitCode: z.number().nullable(),
  durationMs: z.number().nullable(),
});
export type BuildStep = z.infer<typeof buildStepSchema>;

/** A build as the API answers it (`buildSchema` is gantry.yaml's build section). */
export const buildResourceSchema = z.object({
  id: z.string(),
  appId: z.string(),
  app: z.string(),
  sha: z.string(),
  status: z.enum(buildStatuses),
  reason: z.string(),
  requestedBy: z.string(),
  queuedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  attempt: z.number(),
  sloMs: z.number(),
  sloBreached: z.boolean(),
  exitCode: z.number().nullable(),
  error: z.string().nullable(),
  artifactId: z.string().nullable(),
  /** The labels an agent needs to take the build (gantry.yaml `build.runs_on`); absent: the servers build it. */
  runsOn: z.array(z.string()).optional(),
  /** Why a queued build with runsOn still waits (no agent has those labels, or they are all busy). */
  waiting: z.string().optional(),
  /** One build (GET /api/builds/:id) has its steps; lists leave them out. */
  steps: z.array(buildStepSchema).optional(),
});
export type Build = z.infer<typeof buildResourceSchema>;

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
export const artifactSchema = z.object({
  id: z.string(),
  appId: z.string(),
  app: z.string(),
  sha: z.string(),
  kind: z.enum(artifactKinds),
  digest: z.string(),
  /** Images only: `<registry>/<repository>@sha256:…`, always by digest; null for a tarball. */
  reference: z.string().nullable(),
  size: z.number(),
  buildId: z.string(),
  createdAt: z.string(),
  current: z.boolean(),
  prunedAt: z.string().nullable(),
});
export type Artifact = z.infer<typeof artifactSchema>;

export const deploymentTriggers = [
  'auto',
  'tag',
  'cli',
  'api',
  'rollback',
  'recovered',
  /** A failed post-deploy check switched back to the previous release (on_check_failure: rollback). */
  'auto-rollback',
  /** Gantry deployed a commit of a failed release to find which one broke the checks. */
  'bisect',
] as const;
export type DeploymentTrigger = (typeof deploymentTriggers)[number];
/** A rollback asked by a person (`rollback`) or done by Gantry after a failed check (`auto-rollback`). */
export function isRollbackTrigger(trigger: string): boolean {
  return trigger === 'rollback' || trigger === 'auto-rollback';
}

export const deploymentPhaseSchema = z.object({
  name: z.string(),
  startedAt: z.string(),
  ms: z.number().nullable(),
});
export type DeploymentPhase = z.infer<typeof deploymentPhaseSchema>;

export const deploymentSchema = z.object({
  id: z.string(),
  appId: z.string(),
  app: z.string(),
  env: z.string(),
  sha: z.string(),
  previousSha: z.string().nullable(),
  artifactId: z.string().nullable(),
  digest: z.string().nullable(),
  trigger: z.enum(deploymentTriggers),
  actor: z.string(),
  reason: z.string().nullable(),
  tag: z.string().nullable(),
  forced: z.boolean(),
  /** The failed deployment this one fixes, when its author said so (counts as remediation in metrics). */
  remediates: z.string().nullable(),
  status: z.enum(deploymentStatuses),
  /** noop, switch (a warm standby took over) or start (the release booted). */
  kind: z.string().nullable(),
  /** The post-deploy checks of a succeeded deployment; null when the environment has none. */
  verification: z
    .enum(verificationStatuses)
    .nullable()
    // OpenAPI 3.0 reads `nullable` with an enum as needing null among the values.
    .meta({ enum: [...verificationStatuses, null] }),
  phases: z.array(deploymentPhaseSchema),
  error: z.string().nullable(),
  requestedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** Place in the environment's queue (1 = next) while queued. */
  position: z.number().optional(),
  /**
   * For one deployment (`GET /api/deployments/:id`) that waited or waits for approval: how many
   * approvers its digest has and needs (`gantry approvals <deployment>` shows each decision).
   */
  approval: z
    .object({
      requester: z.string(),
      required: z.number(),
      approved: z.number(),
      /** The approvers whose approval counts now. */
      approvers: z.array(z.string()),
      /** When the request stops waiting (its `expires`), or null. */
      expiresAt: z.string().nullable(),
      supersededBy: z.string().nullable(),
    })
    .optional(),
});
export type Deployment = z.infer<typeof deploymentSchema>;
export type DeploymentApproval = NonNullable<Deployment['approval']>;

/**
 * Which release a rollback picked and why (in the rollback route's answer): the newest release the
 * environment ran healthy before `from`, skipping releases rolled back from, failed or held, unless
 * `--to` named one.
 */
export const rollbackChoiceSchema = z.object({
  from: z.string(),
  to: z.string(),
  why: z.string(),
  skipped: z.array(z.object({ sha: z.string(), why: z.string() })),
});
export type RollbackChoice = z.infer<typeof rollbackChoiceSchema>;

/** An environment's lock: no deployment starts until it is unlocked. */
export const environmentLockSchema = z.object({
  by: z.string(),
  reason: z.string().nullable(),
  since: z.string(),
});
/** A rolled-back SHA that auto-deploy must not bring back until the hold is released. */
export const environmentHoldSchema = z.object({
  sha: z.string(),
  reason: z.string().nullable(),
  since: z.string(),
});

export const environmentStateSchema = z.object({
  app: z.string(),
  env: z.string(),
  port: z.number(),
  url: z.string(),
  driver: z.string(),
  /** The deploy agents' hosts the environment lives on (gantry.yaml host/hosts); absent on the server. */
  hosts: z.array(z.string()).optional(),
  /** Each host's URL, as its agent says it is reached (`--address`), in the order of `hosts`. */
  urls: z.array(z.string()).optional(),
  protected: z.boolean(),
  autoDeploy: z.boolean(),
  promoteFrom: z.string().nullable(),
  current: deploymentSchema.nullable(),
  health: z
    .object({ healthy: z.boolean(), sha: z.string().nullable(), detail: z.string().optional() })
    .nullable(),
  commit: z.object({ message: z.string(), committedAt: z.string(), authorName: z.string() }).nullable(),
  lock: environmentLockSchema.nullable(),
  hold: environmentHoldSchema.nullable(),
  queue: z.array(deploymentSchema),
  /**
   * The newest deployment a server stop cut short, when nothing succeeded after it, and the one
   * deployment that ran it again (null when none did: a newer request existed, or it was a retry).
   */
  interrupted: z
    .object({ deployment: deploymentSchema, retry: deploymentSchema.nullable() })
    .nullable()
    .optional(),
});
export type EnvironmentState = z.infer<typeof environmentStateSchema>;

/**
 * Something went wrong in an app's environment: opened by a person or a tool, resolved once.
 * Linked to the deployment that caused it when known; the metrics count it as a change failure
 * and its open → resolved time as time to restore.
 *
 * @example
 * const i: Incident = { id: 'inc_1', app: 'shop', env: 'production', deploymentId: 'dep_1', title: 'Checkout 500s', openedAt: '2026-01-01T10:00:00.000Z', openedBy: 'ann (token:admin)', resolvedAt: null, resolvedBy: null };
 */
export const incidentSchema = z.object({
  id: z.string(),
  /** The app's name. */
  app: z.string(),
  env: z.string(),
  deploymentId: z.string().nullable(),
  title: z.string(),
  openedAt: z.string(),
  openedBy: z.string(),
  resolvedAt: z.string().nullable(),
  resolvedBy: z.string().nullable(),
});
export type Incident = z.infer<typeof incidentSchema>;

/**
 * One run of a post-deploy check against a deployment (each retry is a run of its own).
 *
 * @example
 * const r: CheckRun = { id: 'chk_1', deploymentId: 'dep_1', name: 'smoke', kind: 'run', attempt: 1, status: 'failed', output: 'expected 200, got 500', error: 'exit code 1', startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:02.000Z', ms: 2000 };
 */
export const checkRunStatuses = ['running', 'passed', 'failed', 'cancelled'] as const;
export const checkRunSchema = z.object({
  id: z.string(),
  deploymentId: z.string(),
  name: z.string(),
  kind: z.enum(['run', 'http', 'watch']),
  /** 1 for the first run, 2 for the first retry … */
  attempt: z.number(),
  status: z.enum(checkRunStatuses),
  /** The command's output (its last 64 KiB), or what the HTTP check or watch saw. */
  output: z.string(),
  /** Why it failed, in one line; null when it passed. */
  error: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  ms: z.number().nullable(),
});
export type CheckRun = z.infer<typeof checkRunSchema>;

/**
 * Finding and reverting the commit that failed the checks of the auto-deployed environment
 * (gantry.yaml `revert.on_check_failure`). One per failed deployment; `steps` records every
 * decision (the environment guard, each bisect step, the revert itself).
 */
export const revertStatuses = [
  /** The last verified release is deployed back and checked again. */
  'guarding',
  /** Several new commits: deploying some of them to find the first that fails. */
  'bisecting',
  /** The blamed commit is being reverted and pushed. */
  'reverting',
  'reverted',
  'proposed',
  /** Nothing was reverted, on purpose (`why` says: a flake, a broken environment, a revert of a revert…). */
  'skipped',
  /** It could not finish (`why` says: a push refused, a build that failed…). */
  'failed',
] as const;
export const revertStepSchema = z.object({
  step: z.string(),
  at: z.string(),
  sha: z.string().nullable(),
  deploymentId: z.string().nullable(),
  result: z.string(),
});
export const revertSchema = z.object({
  id: z.string(),
  appId: z.string(),
  app: z.string(),
  env: z.string(),
  /** The deployment whose checks failed. */
  deploymentId: z.string(),
  sha: z.string(),
  goodSha: z.string().nullable(),
  check: z.string().nullable(),
  mode: z.enum(['auto', 'propose']),
  status: z.enum(revertStatuses),
  blamedSha: z.string().nullable(),
  revertSha: z.string().nullable(),
  branch: z.string().nullable(),
  incidentId: z.string().nullable(),
  why: z.string().nullable(),
  steps: z.array(revertStepSchema),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Revert = z.infer<typeof revertSchema>;
export type RevertStep = z.infer<typeof revertStepSchema>;

/** An API token as the token routes list it: never its secret or hash. */
export const tokenInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.string(),
  app: z.string().nullable(),
  env: z.string().nullable(),
  user: z.string().nullable().describe("a personal token's owner (it acts with their rights)"),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable().describe('written at most once a minute'),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type TokenInfo = z.infer<typeof tokenInfoSchema>;
