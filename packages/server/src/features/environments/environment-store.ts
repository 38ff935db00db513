export interface EnvironmentRecord {
  id: string;
  appId: string;
  name: string;
  port: number;
  activeDeploymentId: string | null;
  /** Who holds the slot and until when (see claimSlot); null when free. */
  lease: { owner: string; expiresAt: string } | null;
  /** Grows at every claim and takeover of the slot. */
  fence: number;
  lock: { by: string; reason: string | null; since: string } | null;
  hold: { sha: string; reason: string | null; since: string } | null;
}

export interface SlotLease {
  owner: string;
  ttlMs: number;
}

export interface EnvironmentStore {
  /** The environment's row, created with `port` on first use. */
  ensure(appId: string, name: string, port: () => Promise<number>): Promise<EnvironmentRecord>;
  find(appId: string, name: string): Promise<EnvironmentRecord | undefined>;
  list(appId?: string): Promise<EnvironmentRecord[]>;
  usedPorts(): Promise<number[]>;
  /**
   * Takes the environment's single deployment slot for `owner` until `ttlMs` from now; returns the
   * slot's new fencing token, or null when another deployment has it or the environment is locked.
   */
  claimSlot(id: string, deploymentId: string, lease: SlotLease): Promise<number | null>;
  /** Extends the lease of a held slot; false when `owner` no longer holds it (taken over). */
  renewSlot(id: string, deploymentId: string, lease: SlotLease): Promise<boolean>;
  /** Frees the slot `deploymentId` holds, while `owner` (when given) still holds its lease. */
  releaseSlot(id: string, deploymentId: string, owner?: string): Promise<void>;
  /**
   * Takes over the slot that `deploymentId` holds when its lease ended before `now` (or its owner
   * is `deadOwner`): the slot stays with that deployment, leased to `lease.owner`, with a grown
   * fence, which it returns; null when the lease was renewed or the slot moved on.
   */
  takeOverSlot(
    id: string,
    deploymentId: string,
    lease: SlotLease,
    opts: { now: string; deadOwner?: string },
  ): Promise<number | null>;
  /** Environments whose slot a deployment holds. */
  heldSlots(): Promise<EnvironmentRecord[]>;
  /** Frees slots held by deployments that are no longer running, whose lease has ended (after a crash). */
  releaseStaleSlots(): Promise<number>;
  setLock(id: string, lock: { by: string; reason: string | null } | null): Promise<void>;
  setHold(id: string, hold: { sha: string; reason: string | null } | null): Promise<void>;
}

export interface SeenTagStore {
  /** Records the tag; false when it was seen before (the same tag deploys once). */
  markSeen(appId: string, name: string, sha: string): Promise<boolean>;
  seen(appId: string): Promise<Set<string>>;
}
