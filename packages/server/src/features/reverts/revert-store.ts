import type { Revert, RevertStep } from '@gantry/contracts';

export interface NewRevert {
  appId: string;
  env: string;
  deploymentId: string;
  sha: string;
  goodSha: string | null;
  check: string | null;
  mode: Revert['mode'];
  incidentId: string | null;
}

export type RevertChange = Partial<
  Pick<Revert, 'status' | 'blamedSha' | 'revertSha' | 'branch' | 'why' | 'goodSha' | 'incidentId'>
> & { step?: Omit<RevertStep, 'at'> };

export interface RevertStore {
  /** One per failed deployment: a second insert for the same deployment returns undefined. */
  insert(r: NewRevert): Promise<Revert | undefined>;
  find(id: string): Promise<Revert | undefined>;
  list(q: { appId?: string; limit?: number }): Promise<Revert[]>;
  /** Those not finished (a restart resumes them), oldest first. */
  unfinished(): Promise<Revert[]>;
  update(id: string, change: RevertChange): Promise<Revert>;
  /**
   * Claims `sha` of the app for this revert: true when it is this revert's (now or before), false
   * when another revert claimed it first. The database keeps one claim per commit, ever.
   */
  claimCommit(appId: string, sha: string, revertId: string): Promise<{ mine: boolean; by: string }>;
}
