import type { Generated } from 'kysely';

/** Row shapes as stored. Times are ISO-8601 UTC text, booleans 0/1, JSON as text (portable columns). */
export interface AppsTable {
  id: string;
  name: string;
  repo_url: string;
  branch: string;
  webhook_secret: string;
  poll_interval_ms: number;
  head_sha: string | null;
  created_at: string;
  /** Set when the app was removed with its history kept; its name then holds a tombstone. */
  removed_at: string | null;
  /** JSON AppRegistry set by an admin: where this app's images go instead of the server's registry. */
  registry: string | null;
}

export interface CommitsTable {
  app_id: string;
  sha: string;
  parents: string; // JSON array of SHAs
  author_name: string;
  author_email: string;
  authored_at: string;
  committed_at: string;
  message: string;
  seen_at: string;
  push_id: string | null;
}

export interface PushesTable {
  id: string;
  app_id: string;
  ref: string;
  before_sha: string | null;
  after_sha: string;
  forced: number;
  source: string; // hook | webhook | poll | manual
  commit_count: number;
  dropped: string; // JSON array of SHAs no longer on the branch after a force-push
  created_at: string;
}

export interface BuildsTable {
  id: string;
  app_id: string;
  sha: string;
  status: string; // queued | running | succeeded | failed | cancelled | superseded | interrupted
  reason: string; // push | manual | rebuild | retry
  requested_by: string;
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at: string | null;
  runner_id: string | null;
  attempt: number;
  cancel_requested: number;
  slo_ms: number;
  slo_breached: number;
  exit_code: number | null;
  error: string | null;
  artifact_id: string | null;
  /** JSON array of the labels an agent needs to take the build (gantry.yaml `build.runs_on`); null: the servers' runners. */
  runs_on?: string | null;
}

/** An agent token's labels (features/agents). */
export interface AgentsTable {
  token_id: string;
  /** JSON array. */
  labels: string;
  created_at: string;
  last_seen_at: string | null;
}

/** Which deploy agent process holds each host label (features/agents/host-jobs.ts). */
export interface AgentHostsTable {
  host: string;
  agent_id: string;
  instance: string;
  seen_at: string;
  expires_at: string;
  /** How the holding agent is reached (`--address`); null from agents before it was sent. */
  address: string | null;
}

/** A driver call for an environment on a host, run by the agent holding it. */
export interface HostJobsTable {
  id: string;
  host: string;
  app: string;
  env: string;
  kind: string;
  /** JSON: the call's input (HostJobPayload). */
  payload: string;
  /** offered: handed to an agent's ask, not yet started by it (a reply lost on a cut link is offered again). */
  status: 'queued' | 'offered' | 'running' | 'succeeded' | 'failed';
  /** JSON: what the driver returned. */
  result: string | null;
  error: string | null;
  instance: string | null;
  created_at: string;
  claimed_at: string | null;
  finished_at: string | null;
}

export interface BuildStepsTable {
  build_id: string;
  idx: number;
  name: string;
  run: string;
  status: string; // pending | running | succeeded | failed | skipped | cancelled
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  log_tail: string | null;
  /** Process group of the running step, so a restarted server can stop what a dead one left. */
  pid: number | null;
}

export interface ArtifactsTable {
  id: string;
  app_id: string;
  sha: string;
  digest: string;
  size: number;
  build_id: string;
  created_at: string;
  current: number; // 1 for the artifact a SHA resolves to (a --rebuild makes a new current one)
  pruned_at: string | null;
  kind: Generated<string>; // 'tarball' | 'image'
  /** Images: `<registry>/<repository>@sha256:…`; null for tarballs. */
  reference: string | null;
}

export interface EventsTable {
  id: Generated<number>;
  type: string;
  app_id: string | null;
  subject: string | null;
  actor: string;
  data: string; // JSON
  created_at: string;
  /** The server that appended it (PostgreSQL: its connections' `gantry.origin`); null before 023 and on SQLite. */
  origin: Generated<string | null>;
}

export interface TokensTable {
  id: string;
  name: string;
  hash: string;
  role: string;
  created_at: string;
  last_used_at: string | null;
  /** Client tokens (`<app>:<env>.<secret>`) are fixed to one app and environment. */
  app_id: string | null;
  env: string | null;
  /** A personal token's owner: it acts with that person's rights, never more. */
  user_id: string | null;
  expires_at: string | null;
  revoked_at: string | null;
}

/** A person (features/users): a local account (argon2id hash) or one from single sign-on (issuer, subject). */
export interface UsersTable {
  id: string;
  login: string;
  name: string | null;
  email: string | null;
  password_hash: string | null;
  /** JSON array of group names (given by an admin, or the provider's groups claim). */
  groups: string;
  issuer: string | null;
  subject: string | null;
  disabled: number;
  created_at: string;
  updated_at: string;
}

/** A role given to `user:<login>` or `group:<name>`, on every app (app null), one app, or one environment of it. */
export interface RoleBindingsTable {
  id: string;
  subject: string;
  role: string;
  /** The app's name (a binding outlives the app; an app added again under that name gets it back). */
  app: string | null;
  env: string | null;
  created_at: string;
  created_by: string;
}

export interface EnvironmentsTable {
  id: string;
  app_id: string;
  name: string;
  port: number;
  /** The deployment that holds this environment's slot: one deployment at a time. */
  active_deployment_id: string | null;
  locked_by: string | null;
  lock_reason: string | null;
  locked_at: string | null;
  /** After a rollback, auto-deploy does not bring this SHA back. */
  hold_sha: string | null;
  hold_reason: string | null;
  held_at: string | null;
  created_at: string;
  /** The deployer (host:pid:random) whose deployment holds the slot, while it renews the lease. */
  lease_owner: string | null;
  lease_expires_at: string | null;
  /** Grows at every claim and takeover of the slot; drivers pass it on so a stale switch is refused. */
  fence: Generated<number>;
}

/** On PostgreSQL, each packed artifact in the database too (features/artifacts/shared-blob-store.ts). */
export interface ArtifactBlobsTable {
  digest: string;
  size: number;
  chunks: number;
  created_at: string;
}

export interface BuildLogChunksTable {
  build_id: string;
  idx: number;
  start: number;
  size: number;
  data: Buffer;
  written_at: string;
}

export interface ArtifactBlobChunksTable {
  digest: string;
  n: number;
  data: Buffer;
}

export interface DeploymentsTable {
  id: string;
  app_id: string;
  env: string;
  sha: string;
  previous_sha: string | null;
  artifact_id: string | null;
  digest: string | null;
  trigger: string; // auto | tag | cli | api | rollback | recovered
  actor: string;
  reason: string | null;
  tag: string | null;
  forced: number;
  status: string; // queued | running | succeeded | failed | rejected | superseded | interrupted
  kind: string | null; // noop | switch | start
  phases: string; // JSON [{ name, startedAt, ms }]
  error: string | null;
  runner_id: string | null;
  requested_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Explicit link: this deployment fixes the failed deployment with this id (metrics). */
  remediates: string | null;
  /** verifying | verified | check_failed | superseded; null when the environment has no checks. */
  verification: string | null;
}

export interface CheckRunsTable {
  id: string;
  deployment_id: string;
  name: string;
  kind: string; // run | http | watch
  attempt: number;
  status: string; // running | passed | failed | cancelled
  output: string;
  error: string | null;
  started_at: string;
  finished_at: string | null;
  ms: number | null;
}

/** Finding and reverting the commit that failed the auto-deployed environment's checks (features/reverts). */
export interface RevertsTable {
  id: string;
  app_id: string;
  env: string;
  /** The deployment whose checks failed; one row each. */
  deployment_id: string;
  sha: string;
  /** The last verified release before it, the known good end of a bisect. */
  good_sha: string | null;
  check_name: string | null;
  mode: string; // auto | propose
  status: string;
  blamed_sha: string | null;
  revert_sha: string | null;
  branch: string | null;
  incident_id: string | null;
  why: string | null;
  steps: string; // JSON
  created_at: string;
  updated_at: string;
}

export interface RevertedCommitsTable {
  app_id: string;
  sha: string;
  revert_id: string;
}

export interface SeenTagsTable {
  app_id: string;
  name: string;
  sha: string;
  seen_at: string;
}

export interface TogglesTable {
  id: string;
  app_id: string;
  name: string;
  type: string;
  description: string;
  owner: string | null;
  impression_data: number;
  dependencies: string; // JSON [{ feature, enabled?, variants? }]
  created_by: string;
  created_at: string;
  archived_at: string | null;
}

export interface ToggleEnvironmentsTable {
  toggle_id: string;
  env: string;
  enabled: number;
  strategies: string; // JSON, Unleash's strategy shape
  variants: string; // JSON, Unleash's variant shape
  updated_at: string;
  /** When it was last switched on (for stale-toggle reports). */
  enabled_since: string | null;
}

export interface SegmentsTable {
  id: Generated<number>;
  app_id: string;
  name: string;
  description: string;
  constraints: string; // JSON
  created_at: string;
}

export interface ToggleRevisionsTable {
  app_id: string;
  env: string;
  revision: number;
  updated_at: string;
}

export interface ToggleClientsTable {
  app_id: string;
  env: string;
  app_name: string;
  instance_id: string;
  sdk_version: string | null;
  strategies: string; // JSON string[]
  interval_ms: number | string | null;
  started_at: string | null;
  first_seen_at: string;
  last_seen_at: string;
  /** The client token it last used (migration 010). */
  token_id: string | null;
  token_name: string | null;
  /** What it last fetched: revision, ETag, `features`/`delta`/`streaming`, when. */
  fetch_revision: number | string | null;
  fetch_etag: string | null;
  fetch_mode: string | null;
  fetch_at: string | null;
}

/** Evaluations reported by SDKs, per toggle, SDK app name, environment and UTC hour. */
export interface ToggleUsageTable {
  app_id: string;
  toggle: string;
  app_name: string;
  env: string;
  hour: string; // ISO, truncated to the hour
  yes_count: number | string;
  no_count: number | string;
  variants: string; // JSON { [variant]: count }
  last_seen_at: string;
}

export interface ReleasesTable {
  id: string;
  name: string;
  notes: string;
  status: string; // draft | scheduled | applied | reverted | failed
  scheduled_at: string | null;
  applied_at: string | null;
  reverted_at: string | null;
  created_by: string;
  created_at: string;
  error: string | null;
}

export interface ReleaseChangesTable {
  release_id: string;
  idx: number;
  app_id: string;
  toggle: string;
  env: string;
  change: string; // JSON EnvironmentPatch
  before: string | null; // JSON state captured when applied, restored by revert
}

export interface IncidentsTable {
  id: string;
  app_id: string;
  env: string;
  deployment_id: string | null;
  title: string;
  opened_at: string;
  opened_by: string;
  resolved_at: string | null;
  resolved_by: string | null;
}

export interface ConsoleSessionsTable {
  id: string;
  /** sha256 of the cookie's secret; the secret itself is never stored. */
  hash: string;
  csrf: string;
  /** The token a session signed in with, or null for a person's session (user_id). */
  token_id: string | null;
  user_id: string | null;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
}

export interface Schema {
  apps: AppsTable;
  commits: CommitsTable;
  pushes: PushesTable;
  builds: BuildsTable;
  build_steps: BuildStepsTable;
  artifacts: ArtifactsTable;
  events: EventsTable;
  tokens: TokensTable;
  agents: AgentsTable;
  agent_hosts: AgentHostsTable;
  host_jobs: HostJobsTable;
  users: UsersTable;
  role_bindings: RoleBindingsTable;
  environments: EnvironmentsTable;
  artifact_blobs: ArtifactBlobsTable;
  artifact_blob_chunks: ArtifactBlobChunksTable;
  build_log_chunks: BuildLogChunksTable;
  deployments: DeploymentsTable;
  seen_tags: SeenTagsTable;
  toggles: TogglesTable;
  toggle_environments: ToggleEnvironmentsTable;
  segments: SegmentsTable;
  toggle_revisions: ToggleRevisionsTable;
  toggle_clients: ToggleClientsTable;
  toggle_usage: ToggleUsageTable;
  releases: ReleasesTable;
  release_changes: ReleaseChangesTable;
  incidents: IncidentsTable;
  metric_deployments: MetricDeploymentsTable;
  metric_commits: MetricCommitsTable;
  console_sessions: ConsoleSessionsTable;
  check_runs: CheckRunsTable;
  reverts: RevertsTable;
  reverted_commits: RevertedCommitsTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  notification_deliveries: NotificationDeliveriesTable;
  notification_attempts: NotificationAttemptsTable;
  notification_cursors: NotificationCursorsTable;
  forge_settings: ForgeSettingsTable;
  forge_deployments: ForgeDeploymentsTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  secrets: SecretsTable;
  approval_requests: ApprovalRequestsTable;
  approvals: ApprovalsTable;
  sign_in_failures: SignInFailuresTable;
  pending_sign_ins: PendingSignInsTable;
}

/** One failed password sign-in under one key (`login:<name>`, `addr:<ip>`), epoch ms (features/users). */
export interface SignInFailuresTable {
  key: string;
  at_ms: number;
}

/** A single sign-on waiting for the provider's callback (features/oidc): the PendingLogin as JSON. */
export interface PendingSignInsTable {
  state: string;
  login: string;
  expires_at_ms: number;
}

/** Ledger facts per successful deployment (features/metrics; docs/metrics.md). Times in epoch ms. */
export interface MetricDeploymentsTable {
  deployment_id: string;
  app_id: string;
  env: string;
  seq: number;
  sha: string;
  trigger: string;
  requested_at_ms: number;
  finished_at_ms: number;
  remediates: string | null;
  previous_sha: string | null;
  ran_before: number;
  forward: number | null;
  revert_targets: string; // JSON string[]
  new_commits: number;
  known_sha: number;
  lead_ms: Uint8Array; // float64 little-endian, one per new commit
}

/** The deployment that first shipped each commit to an environment, and the commit's lead time. */
export interface MetricCommitsTable {
  app_id: string;
  env: string;
  sha: string;
  deployment_id: string;
  seq: number;
}

/** An outbound webhook (features/notifications): every app's events when `app_id` is null. */
export interface WebhookSubscriptionsTable {
  id: string;
  app_id: string | null;
  /** As given, credentials included; shown masked. */
  url: string;
  events: string; // JSON string[]: event types and prefixes (`deployment.*`)
  format: string; // gantry | slack
  /** HMAC-SHA256 key; write-only through the API. */
  secret: string | null;
  timeout_ms: number;
  max_attempts: number;
  /** The last event in the log when it was created: it gets only later ones. */
  after_event_id: number;
  created_at: string;
  created_by: string;
}

/** One event to send to one target (a webhook, an app's forge) by one action; retried until it succeeds or gives up. */
export interface NotificationDeliveriesTable {
  id: string;
  /** A webhook subscription's id, or `forge:<app id>`. */
  target: string;
  app_id: string | null;
  event_id: number;
  event_type: string;
  action: string;
  /** Deliveries with the same key go out one after the other, in id order (forge statuses). */
  ordering_key: string | null;
  status: string; // pending | succeeded | failed | skipped
  attempts: number;
  max_attempts: number;
  /** When it is due; claiming pushes it past the attempt's timeout (a lease). */
  next_attempt_at: string;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface NotificationAttemptsTable {
  id: string;
  delivery_id: string;
  app_id: string | null;
  number: number;
  /** 1 when asked for by hand (redelivery). */
  redelivery: number;
  started_at: string;
  ms: number;
  method: string;
  /** Credentials masked. */
  url: string;
  response_status: number | null;
  /** The start of the answer, capped. */
  response_body: string | null;
  error: string | null;
}

/** How far the dispatcher has read the event log, and ids it saw missing (an open transaction may still add them). */
export interface NotificationCursorsTable {
  name: string;
  after_event_id: number;
  holes: string; // JSON [{ id, since }]
  updated_at: string;
}

/** Where an app's commit statuses and deployments go (features/forge). */
export interface ForgeSettingsTable {
  app_id: string;
  provider: string; // github | gitlab | gitea
  api_url: string;
  /** `owner/name`, or GitLab's project id or path. */
  repo: string;
  /** Write-only through the API; stored as given until issue 15 encrypts secrets at rest. */
  token: string;
  production_envs: string; // JSON string[]
  /** The last event in the log when they were set: the forge hears of later ones only. */
  after_event_id: number;
  updated_at: string;
  updated_by: string;
}

/** The forge's id of a Gantry deployment it was told about. */
export interface ForgeDeploymentsTable {
  deployment_id: string;
  provider: string;
  app_id: string;
  remote_id: string;
  created_at: string;
}

/** An app's secret (features/secrets): the value sealed with AES-256-GCM under `key_id`, never plaintext. */
export interface SecretsTable {
  id: string;
  app_id: string;
  /** '' for the app-wide value. */
  env: string;
  name: string;
  key_id: string;
  /** base64 of the 12-byte IV. */
  iv: string;
  /** base64 of the ciphertext and its 16-byte tag. */
  ciphertext: string;
  created_at: string;
  updated_at: string;
  updated_by: string;
}

/** A deployment that waited for approval (features/approvals): the rules it was asked under. */
export interface ApprovalRequestsTable {
  deployment_id: string;
  app_id: string;
  env: string;
  sha: string;
  digest: string;
  /** `user:<login>`, `token:<name>`, `git:<email>` (a pushed tag) … */
  requester: string;
  required: number;
  /** JSON: gantry.yaml's `from` list. */
  approvers: string;
  self_approval: number;
  expires_ms: number | null;
  superseded_by: string | null;
  created_at: string;
}

/** One approver's decision on a request, for one artifact digest (features/approvals). */
export interface ApprovalsTable {
  id: string;
  deployment_id: string;
  app_id: string;
  env: string;
  digest: string;
  approver: string;
  /** approved | rejected */
  verdict: string;
  comment: string | null;
  created_at: string;
}

/** One change made through the API (features/audit), hash-chained in `seq` order. JSON as text. */
export interface AuditLogTable {
  seq: number;
  at: string;
  actor: string;
  principal_name: string | null;
  principal: string | null;
  method: string;
  route: string;
  params: string;
  query: string | null;
  app: string | null;
  env: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  status: number;
  body: string | null;
  before: string | null;
  after: string | null;
  prev_hash: string;
  hash: string;
}

/** The audit chain's one head row (id 1): its last row, and the anchor verification starts from. */
export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
  anchor_seq: number;
  anchor_hash: string;
}
