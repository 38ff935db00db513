import type { approvalVerdicts } from '@gantry/contracts';

/** A deployment that waited for approval: the rules it was asked under and who asked. */
export interface ApprovalRequestRecord {
  deploymentId: string;
  appId: string;
  env: string;
  sha: string;
  digest: string;
  requester: string;
  required: number;
  from: string[];
  selfApproval: boolean;
  expiresMs: number | null;
  supersededBy: string | null;
  createdAt: string;
}

/** One approver's decision, for one digest. */
export interface ApprovalRecord {
  id: string;
  deploymentId: string;
  appId: string;
  env: string;
  digest: string;
  approver: string;
  verdict: (typeof approvalVerdicts)[number];
  comment: string | null;
  createdAt: string;
}

export interface ApprovalStore {
  addRequest(r: Omit<ApprovalRequestRecord, 'supersededBy' | 'createdAt'>): Promise<void>;
  findRequest(deploymentId: string): Promise<ApprovalRequestRecord | undefined>;
  add(a: Omit<ApprovalRecord, 'id' | 'createdAt'>): Promise<ApprovalRecord>;
  /** Decisions on one request, oldest first. */
  list(deploymentId: string): Promise<ApprovalRecord[]>;
  /** Decisions on several requests, oldest first. */
  listFor(deploymentIds: readonly string[]): Promise<ApprovalRecord[]>;
  /** Requests whose deployment still waits (awaiting_approval), oldest first; of one app and environment when given. */
  waiting(filter: { appId?: string; env?: string }): Promise<ApprovalRequestRecord[]>;
  /** Status-guarded awaiting_approval → queued or rejected (with the reason): false when it was no longer waiting. */
  settle(deploymentId: string, to: 'queued' | 'rejected', error?: string): Promise<boolean>;
  /** Requests of the environment recorded before `byId` that still wait become superseded by it; their ids. */
  supersedeWaiting(appId: string, env: string, byId: string): Promise<string[]>;
  /** Artifacts of requests that wait: kept by prune, since an approval would deploy exactly them. */
  waitingArtifactIds(): Promise<Set<string>>;
}
