import type { Selectable } from 'kysely';
import type { Db } from '../../db/database.js';
import type { ApprovalRequestsTable, ApprovalsTable } from '../../db/schema.js';
import { newId, nowIso } from '../../ids.js';
import type { ApprovalRecord, ApprovalRequestRecord, ApprovalStore } from './approval-store.js';

export class SqlApprovalStore implements ApprovalStore {
  constructor(private readonly db: Db) {}

  async addRequest(r: Omit<ApprovalRequestRecord, 'supersededBy' | 'createdAt'>): Promise<void> {
    await this.db
      .insertInto('approval_requests')
      .values({
        deployment_id: r.deploymentId,
        app_id: r.appId,
        env: r.env,
        sha: r.sha,
        digest: r.digest,
        requester: r.requester,
        required: r.required,
        approvers: JSON.stringify(r.from),
        self_approval: r.selfApproval ? 1 : 0,
        expires_ms: r.expiresMs,
        superseded_by: null,
        created_at: nowIso(),
      })
      .execute();
  }

  async findRequest(deploymentId: string): Promise<ApprovalRequestRecord | undefined> {
    const row = await this.db
      .selectFrom('approval_requests')
      .selectAll()
      .where('deployment_id', '=', deploymentId)
      .executeTakeFirst();
    return row && toRequest(row);
  }

  async add(a: Omit<ApprovalRecord, 'id' | 'createdAt'>): Promise<ApprovalRecord> {
    const record: ApprovalRecord = { ...a, id: newId('apv'), createdAt: nowIso() };
    await this.db
      .insertInto('approvals')
      .values({
        id: record.id,
        deployment_id: a.deploymentId,
        app_id: a.appId,
        env: a.env,
        digest: a.digest,
        approver: a.approver,
        verdict: a.verdict,
        comment: a.comment,
        created_at: record.createdAt,
      })
      .execute();
    return record;
  }

  async list(deploymentId: string): Promise<ApprovalRecord[]> {
    const rows = await this.db
      .selectFrom('approvals')
      .selectAll()
      .where('deployment_id', '=', deploymentId)
      .orderBy('id', 'asc')
      .execute();
    return rows.map(toApproval);
  }

  async listFor(deploymentIds: readonly string[]): Promise<ApprovalRecord[]> {
    if (deploymentIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('approvals')
      .selectAll()
      .where('deployment_id', 'in', [...deploymentIds])
      .orderBy('id', 'asc')
      .execute();
    return rows.map(toApproval);
  }

  async waiting(filter: { appId?: string; env?: string }): Promise<ApprovalRequestRecord[]> {
    let q = this.db
      .selectFrom('approval_requests as r')
      .innerJoin('deployments as d', 'd.id', 'r.deployment_id')
      .selectAll('r')
      .where('d.status', '=', 'awaiting_approval');
    if (filter.appId) q = q.where('r.app_id', '=', filter.appId);
    if (filter.env) q = q.where('r.env', '=', filter.env);
    const rows = await q.orderBy('r.deployment_id', 'asc').limit(1000).execute();
    return rows.map(toRequest);
  }

  async settle(deploymentId: string, to: 'queued' | 'rejected', error?: string): Promise<boolean> {
    const at = nowIso();
    const res = await this.db
      .updateTable('deployments')
      .set(
        to === 'queued'
          ? { status: 'queued' }
          : { status: 'rejected', error: error ?? null, started_at: at, finished_at: at },
      )
      .where('id', '=', deploymentId)
      .where('status', '=', 'awaiting_approval')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async supersedeWaiting(appId: string, env: string, byId: string): Promise<string[]> {
    return this.db.transaction().execute(async (tx) => {
      const rows = await tx
        .updateTable('deployments')
        .set({ status: 'superseded', finished_at: nowIso() })
        .where('app_id', '=', appId)
        .where('env', '=', env)
        .where('status', '=', 'awaiting_approval')
        // Ids are time-ordered: only older requests give way, however inserts interleave.
        .where('id', '<', byId)
        .returning('id')
        .execute();
      const ids = rows.map((r) => r.id);
      if (ids.length)
        await tx
          .updateTable('approval_requests')
          .set({ superseded_by: byId })
          .where('deployment_id', 'in', ids)
          .execute();
      return ids;
    });
  }

  async waitingArtifactIds(): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('deployments')
      .select('artifact_id')
      .where('status', '=', 'awaiting_approval')
      .where('artifact_id', 'is not', null)
      .execute();
    return new Set(rows.map((r) => r.artifact_id!));
  }
}

function toRequest(r: Selectable<ApprovalRequestsTable>): ApprovalRequestRecord {
  return {
    deploymentId: r.deployment_id,
    appId: r.app_id,
    env: r.env,
    sha: r.sha,
    digest: r.digest,
    requester: r.requester,
    required: Number(r.required),
    from: JSON.parse(r.approvers) as string[],
    selfApproval: Number(r.self_approval) === 1,
    expiresMs: r.expires_ms === null ? null : Number(r.expires_ms),
    supersededBy: r.superseded_by,
    createdAt: r.created_at,
  };
}

function toApproval(r: Selectable<ApprovalsTable>): ApprovalRecord {
  return {
    id: r.id,
    deploymentId: r.deployment_id,
    appId: r.app_id,
    env: r.env,
    digest: r.digest,
    approver: r.approver,
    verdict: r.verdict as ApprovalRecord['verdict'],
    comment: r.comment,
    createdAt: r.created_at,
  };
}
