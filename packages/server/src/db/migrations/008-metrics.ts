import type { Kysely, Migration } from 'kysely';
import type { DialectCapabilities } from '../dialects/dialect-capabilities.js';

/**
 * What the metrics ledger keeps as each successful deployment finishes (docs/metrics.md): the facts
 * that need the commit graph, so a year of metrics never walks the graph again.
 */
export const metrics = (caps: DialectCapabilities): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('deployments').addColumn('remediates', 'text').execute();
    await db.schema
      .createTable('metric_deployments')
      .addColumn('deployment_id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id'))
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('sha', 'text', (c) => c.notNull())
      .addColumn('trigger', 'text', (c) => c.notNull())
      .addColumn('requested_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('finished_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('remediates', 'text')
      .addColumn('previous_sha', 'text')
      .addColumn('ran_before', 'integer', (c) => c.notNull())
      .addColumn('forward', 'integer')
      .addColumn('revert_targets', 'text', (c) => c.notNull())
      .addColumn('new_commits', 'integer', (c) => c.notNull())
      .addColumn('known_sha', 'integer', (c) => c.notNull())
      // The lead times of its new commits, float64 little-endian: a year of them reads as 100k rows, not 1M.
      .addColumn('lead_ms', caps.blobType, (c) => c.notNull())
      .addUniqueConstraint('metric_deployments_seq', ['app_id', 'env', 'seq'])
      .execute();
    await db.schema
      .createIndex('metric_deployments_sha')
      .on('metric_deployments')
      .columns(['app_id', 'env', 'sha'])
      .execute();
    await db.schema
      .createTable('metric_commits')
      .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id'))
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('sha', 'text', (c) => c.notNull())
      .addColumn('deployment_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('metric_commits_pk', ['app_id', 'env', 'sha'])
      .execute();
    // Tells cheaply whether the ledger is behind: successful deployments of an environment.
    await db.schema
      .createIndex('deployments_app_env_status')
      .on('deployments')
      .columns(['app_id', 'env', 'status'])
      .execute();
  },
});
