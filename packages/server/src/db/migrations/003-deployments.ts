import type { Kysely, Migration } from 'kysely';

export const deployments: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('environments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('port', 'integer', (c) => c.notNull())
      .addColumn('active_deployment_id', 'text')
      .addColumn('locked_by', 'text')
      .addColumn('lock_reason', 'text')
      .addColumn('locked_at', 'text')
      .addColumn('hold_sha', 'text')
      .addColumn('hold_reason', 'text')
      .addColumn('held_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('environments_app_name', ['app_id', 'name'])
      .addUniqueConstraint('environments_port', ['port'])
      .execute();

    await db.schema
      .createTable('deployments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id'))
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('sha', 'text', (c) => c.notNull())
      .addColumn('previous_sha', 'text')
      .addColumn('artifact_id', 'text')
      .addColumn('digest', 'text')
      .addColumn('trigger', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('tag', 'text')
      .addColumn('forced', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('kind', 'text')
      .addColumn('phases', 'text', (c) => c.notNull())
      .addColumn('error', 'text')
      .addColumn('runner_id', 'text')
      .addColumn('requested_at', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text')
      .addColumn('finished_at', 'text')
      .execute();
    await db.schema
      .createIndex('deployments_app_env_id')
      .on('deployments')
      .columns(['app_id', 'env', 'id'])
      .execute();
    await db.schema.createIndex('deployments_status').on('deployments').columns(['status', 'id']).execute();

    await db.schema
      .createTable('seen_tags')
      .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('sha', 'text', (c) => c.notNull())
      .addColumn('seen_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('seen_tags_pk', ['app_id', 'name'])
      .execute();
  },
};
