/**
 * Every state change in Gantry is one of these events, appended to the event log.
 * Audit, metrics, live updates (SSE) and the UI read from the log.
 *
 * @example
 * const e: GantryEvent = { id: 1, type: 'build.queued', appId: 'app_1', subject: 'bld_1', actor: 'hook', data: {}, createdAt: '2026-01-01T00:00:00.000Z' };
 */
export const eventTypes = [
  'app.added',
  /** `data`: `{ name, purged, stoppedEnvironments }`; without purge the app's history stays. */
  'app.removed',
  /** `data`: `{ registry }`: the app's own registry (AppRegistry, no secrets), or null when it uses the server's again. */
  'app.registry_changed',
  /** `data`: `{ forge }`: where the app's statuses go (provider, apiUrl, repo; never the token), or null. */
  'app.forge_changed',
  'push.received',
  'commit.recorded',
  'build.queued',
  'build.started',
  'build.step.started',
  'build.step.finished',
  'build.slo_breached',
  'build.succeeded',
  'build.failed',
  'build.cancelled',
  'build.interrupted',
  'build.superseded',
  'build.requeued',
  'artifact.created',
  'artifact.pruned',
  'token.created',
  /** `data`: `{ name, role }`: a token was revoked; requests and streams with it stop at once (subject: its id). */
  'token.revoked',
  /** `data`: `{ login, groups }` (subject: the login). */
  'user.added',
  /** `data`: `{ login, fields, password }`: which fields changed (never a password). */
  'user.changed',
  /** `data`: `{ login }`. */
  'user.removed',
  /** `data`: `{ role, app, env }`: a role bound to `user:<login>` or `group:<name>` (the subject). */
  'role.granted',
  /** `data`: `{ role, app, env }`. */
  'role.revoked',
  'tag.seen',
  'deployment.queued',
  'deployment.rejected',
  'deployment.started',
  'deployment.phase',
  'deployment.succeeded',
  'deployment.failed',
  'deployment.superseded',
  'deployment.interrupted',
  /** `data`: `{ env, sha, digest, trigger, requester, required, from, expiresAt }`: the deployment waits as awaiting_approval (subject: its id). */
  'approval.requested',
  /** `data`: `{ env, sha, digest, comment, approved, required }`: one approver approved the digest (actor: who). */
  'approval.approved',
  /** `data`: `{ env, sha, digest, comment }`: one approver rejected the request (actor: who); `deployment.rejected` follows. */
  'approval.rejected',
  /** `data`: `{ env, sha, digest, approvers }`: enough approvals; a `deployment.queued` follows. */
  'deployment.approved',
  /** `data`: `{ env, sha, digest, reason, skipped }`: an admin's override skipped a freeze or approvals (actor: who). */
  'deployment.break_glass',
  /** `data`: `{ env, sha, checks }`: the names of the checks that now run against the release. */
  'deployment.verifying',
  /** `data`: `{ env, sha }`: every check passed. */
  'deployment.verified',
  /** `data`: `{ env, sha, check, error, action }`: the first check that failed and what Gantry does about it (rollback, keep). */
  'deployment.check_failed',
  /** `data`: `{ env, sha, check, kind, attempt, status, error, ms }`: one run of a check (subject: the deployment). */
  'check.finished',
  /** `data`: `{ env, sha, failedDeployment, step, … }`: one step of finding and reverting the commit that failed QA (subject: the revert's id). */
  'revert.step',
  /** `data`: `{ blamed, revertSha, branch, check }`: the revert commit was pushed to the main branch. */
  'revert.pushed',
  /** `data`: `{ blamed, revertSha, branch, check, why }`: the revert was pushed to a branch for a person to merge. */
  'revert.proposed',
  /** `data`: `{ blamed, why }`: Gantry decided not to revert (a flake, a broken environment, a revert of a revert …). */
  'revert.skipped',
  'environment.locked',
  'environment.unlocked',
  'environment.held',
  'environment.hold_released',
  'environment.app_crashed',
  'environment.app_restarted',
  'environment.app_gave_up',
  /** `data`: `{ host, sha, deployment, kind }`: an agent took the host over and serves the environment's last healthy release there (no deployment: nothing new is released). */
  'environment.host_restored',
  /** `data`: `{ host, sha, deployment, error }`: the host's new agent could not serve it; the next deployment will. */
  'environment.host_restore_failed',
  'toggle.created',
  'toggle.changed',
  'toggle.archived',
  'segment.changed',
  'release.created',
  'release.changed',
  'release.scheduled',
  'release.applied',
  'release.reverted',
  /** `data`: `{ release, at }`: the time it was scheduled for; the release is a draft again. */
  'release.unscheduled',
  /** `data`: `{ release, idx, app, toggle, env, change }`: the change taken out of a draft or scheduled release. */
  'release.change_removed',
  /** `data`: `{ release, from }`: the status it was cancelled from (draft, scheduled or failed). */
  'release.cancelled',
  /** `data`: `{ release, error }`: the scheduler could not apply it; nothing of it was applied. */
  'release.failed',
  /** `data.incident` is the Incident as opened. */
  'incident.opened',
  /** `data.incident` is the Incident as resolved. */
  'incident.resolved',
  /** `data`: `{ url, events, format, signed }` (the URL masked; subject: the webhook's id). */
  'webhook.added',
  /** `data`: `{ url }` (masked; subject: the webhook's id). */
  'webhook.removed',
  /** `data`: `{ name, env, created }`: an app's secret was set (subject: its name; never the value). */
  'secret.set',
  /** `data`: `{ name, env }`: an app's secret was removed (subject: its name). */
  'secret.removed',
  /** `data`: `{ keyId, retired, reencrypted, resumed }`: every secret is encrypted with a new key. */
  'secret.key_rotated',
] as const;

export type EventType = (typeof eventTypes)[number];

export interface GantryEvent {
  id: number;
  type: EventType;
  appId: string | null;
  /** The id of the thing the event is about (build id, artifact id, commit SHA…). */
  subject: string | null;
  actor: string;
  data: Record<string, unknown>;
  createdAt: string;
}

export type NewEvent = Omit<GantryEvent, 'id' | 'createdAt'>;
