import type { Kysely, Migration } from 'kysely';

/**
 * Approvals (features/approvals): `approval_requests` holds, per deployment that waited for approval,
 * the rules it was asked under (from gantry.yaml then) and who asked; `approvals` holds each
 * approver's decision with the artifact digest it was for. The deployment's own status says where
 * the request stands (awaiting_approval, then queued, rejected or superseded).
 */
export const approvals: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('approval_requests')
      .addColumn('deployment_id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('sha', 'text', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('requester', 'text', (c) => c.notNull())
      .addColumn('required', 'integer', (c) => c.notNull())
      .addColumn('approvers', 'text', (c) => c.notNull())
      .addColumn('self_approval', 'integer', (c) => c.notNull())
      .addColumn('expires_ms', 'bigint')
      .addColumn('superseded_by', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('approval_requests_app_env')
      .on('approval_requests')
      .columns(['app_id', 'env'])
      .execute();
    await db.schema
      .createTable('approvals')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('deployment_id', 'text', (c) => c.notNull())
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('approver', 'text', (c) => c.notNull())
      .addColumn('verdict', 'text', (c) => c.notNull())
      .addColumn('comment', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('approvals_deployment')
      .on('approvals')
      .columns(['deployment_id', 'id'])
      .execute();
  },
};
