// A deployment's statuses, without zod (the CLI's fast paths import this).

export const deploymentStatuses = [
  /** Waits for approvals (gantry.yaml `approvals`) before it is queued. */
  'awaiting_approval',
  'queued',
  'running',
  'succeeded',
  'failed',
  'rejected',
  'superseded',
  'interrupted',
] as const;
export type DeploymentStatus = (typeof deploymentStatuses)[number];
/**
 * The checks after a deployment (gantry.yaml `checks`): running, all passed, one failed, or cut short
 * because a newer deployment replaced the release. Null when the environment declares no checks.
 */
export const verificationStatuses = ['verifying', 'verified', 'check_failed', 'superseded'] as const;
export type VerificationStatus = (typeof verificationStatuses)[number];

export const finishedDeploymentStatuses: readonly DeploymentStatus[] = [
  'succeeded',
  'failed',
  'rejected',
  'superseded',
  'interrupted',
];
