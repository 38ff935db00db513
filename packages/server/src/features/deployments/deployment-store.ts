import type { Deployment, DeploymentPhase, DeploymentStatus, VerificationStatus } from '@gantry/contracts';

/** A deployment as requested: the record's own fields, before anything ran. */
export interface NewDeployment
  extends Pick<
    Deployment,
    | 'appId'
    | 'env'
    | 'sha'
    | 'previousSha'
    | 'artifactId'
    | 'digest'
    | 'trigger'
    | 'actor'
    | 'reason'
    | 'tag'
    | 'forced'
  > {
  status: 'queued' | 'awaiting_approval' | 'rejected' | 'succeeded';
  error?: string | null;
  remediates?: string | null;
  /** For recovered history: when it happened. */
  at?: string;
}

export interface DeploymentFinish {
  status: Extract<DeploymentStatus, 'succeeded' | 'failed' | 'interrupted'>;
  kind?: string | null;
  error?: string | null;
  /** Set with the status, so that no reader sees a succeeded deployment whose checks have not begun. */
  verification?: 'verifying';
}

export interface DeploymentStore {
  insert(d: NewDeployment): Promise<Deployment>;
  find(id: string): Promise<Deployment | undefined>;
  list(q: {
    appId?: string;
    env?: string;
    status?: DeploymentStatus;
    limit?: number;
    before?: string;
  }): Promise<Deployment[]>;
  /** Queued deployments of one environment, oldest first. */
  queued(appId: string, env: string): Promise<Deployment[]>;
  /** Every environment (app id, env) that has something queued. */
  queuedEnvironments(): Promise<{ appId: string; env: string }[]>;
  /** Marks queued deployments of the environment recorded before `keepId` superseded. */
  supersedeQueued(appId: string, env: string, keepId: string): Promise<string[]>;
  /** Status-guarded queued → running. */
  start(id: string, runnerId: string): Promise<boolean>;
  setPhases(id: string, phases: DeploymentPhase[]): Promise<void>;
  finish(id: string, f: DeploymentFinish): Promise<boolean>;
  running(): Promise<Deployment[]>;
  /** The latest succeeded deployment of the environment, optionally other than a SHA. */
  lastSucceeded(appId: string, env: string, opts?: { otherThan?: string }): Promise<Deployment | undefined>;
  hasSucceeded(appId: string, env: string, sha: string): Promise<boolean>;
  /** Deployments whose post-deploy checks are running (or were, when a server stopped). */
  verifying(): Promise<Deployment[]>;
  /** Sets the post-deploy checks' state; with `from`, only while it is still that (a guarded update). */
  setVerification(id: string, status: VerificationStatus, from?: VerificationStatus | null): Promise<boolean>;
  /** Artifact ids among the last `n` succeeded deployments of every environment. */
  recentArtifactIds(n: number): Promise<Set<string>>;
}
