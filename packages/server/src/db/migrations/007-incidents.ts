import type { Kysely, Migration } from 'kysely';

export const incidents: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('incidents')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id'))
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('deployment_id', 'text', (c) => c.references('deployments.id'))
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('opened_at', 'text', (c) => c.notNull())
      .addColumn('opened_by', 'text', (c) => c.notNull())
      .addColumn('resolved_at', 'text')
      .addColumn('resolved_by', 'text')
      .execute();
    await db.schema
      .createIndex('incidents_app_env_opened')
      .on('incidents')
      .columns(['app_id', 'env', 'opened_at'])
      .execute();
  },
};
