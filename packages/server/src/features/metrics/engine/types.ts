import type { BuildStatus, DeploymentStatus, DeploymentTrigger } from '@gantry/contracts';

/** Field names follow Commit, Deployment and Build in packages/contracts/src/resources.ts. */
export interface CommitEvent {
  sha: string;
  parents: string[];
  committedAt: string;
  /** Needed to recognise `git revert` commits ("This reverts commit <sha>."). */
  message?: string;
}

export interface DeploymentEvent {
  id: string;
  app: string;
  env: string;
  sha: string;
  status: DeploymentStatus;
  trigger: DeploymentTrigger;
  requestedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Explicit link: this deployment fixes the failed deployment with this id. */
  remediates?: string;
}

export interface IncidentEvent {
  id: string;
  app: string;
  env: string;
  deploymentId?: string;
  openedAt: string;
  resolvedAt?: string | null;
}

export interface BuildEvent {
  id: string;
  app: string;
  sha: string;
  status: BuildStatus;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** The build time SLO this build was held to (gantry.yaml `build.timeout`); default 10 minutes. */
  sloMs?: number;
}

export interface ReleaseEvent {
  name: string;
  app?: string;
  env: string;
  appliedAt: string;
}

export interface ToggleChangeEvent {
  app: string;
  env: string;
  toggle: string;
  at: string;
  enabledBefore: boolean;
  enabledAfter: boolean;
  /** The release that made this change (applying or reverting it); counted with the release, not alone. */
  release?: string;
}

export interface MetricsInput {
  commits: CommitEvent[];
  deployments: DeploymentEvent[];
  incidents: IncidentEvent[];
  builds: BuildEvent[];
  releases?: ReleaseEvent[];
  toggleChanges?: ToggleChangeEvent[];
}

export type Bucket = 'day' | 'week' | 'month';

export interface Scope {
  app: string;
  /** Defaults to production, the headline scope. */
  env?: string;
  from: string;
  to: string;
  /** How long after a deployment finished an unlinked incident is still blamed on it. Default 24 h. */
  incidentWindowMs?: number;
}

export const DEFAULT_ENV = 'production';
export const DEFAULT_INCIDENT_WINDOW_MS = 24 * 60 * 60 * 1000;
