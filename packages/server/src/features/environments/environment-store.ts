export interface EnvironmentRecord {
  id: string;
  appId: string;
  name: string;
  port: number;
  activeDeploymentId: string | null;
  lock: { by: string; reason: string | null; since: string } | null;
  hold: { sha: string; reason: string | null; since: string } | null;
}

export interface EnvironmentStore {
  /** The environment's row, created with `port` on first use. */
  ensure(appId: string, name: string, port: () => Promise<number>): Promise<EnvironmentRecord>;
  find(appId: string, name: string): Promise<EnvironmentRecord | undefined>;
  list(appId?: string): Promise<EnvironmentRecord[]>;
  usedPorts(): Promise<number[]>;
  /** Takes the environment's single deployment slot; false when another deployment has it. */
  claimSlot(id: string, deploymentId: string): Promise<boolean>;
  releaseSlot(id: string, deploymentId: string): Promise<void>;
  /** Frees slots held by deployments that are no longer running (after a crash). */
  releaseStaleSlots(): Promise<number>;
  setLock(id: string, lock: { by: string; reason: string | null } | null): Promise<void>;
  setHold(id: string, hold: { sha: string; reason: string | null } | null): Promise<void>;
}

export interface SeenTagStore {
  /** Records the tag; false when it was seen before (the same tag deploys once). */
  markSeen(appId: string, name: string, sha: string): Promise<boolean>;
  seen(appId: string): Promise<Set<string>>;
}
