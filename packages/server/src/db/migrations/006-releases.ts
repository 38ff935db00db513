import type { Kysely, Migration } from 'kysely';

export const releases: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('releases')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('notes', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('scheduled_at', 'text')
      .addColumn('applied_at', 'text')
      .addColumn('reverted_at', 'text')
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('error', 'text')
      .execute();
    await db.schema
      .createTable('release_changes')
      .addColumn('release_id', 'text', (c) => c.notNull().references('releases.id'))
      .addColumn('idx', 'integer', (c) => c.notNull())
      .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id'))
      .addColumn('toggle', 'text', (c) => c.notNull())
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('change', 'text', (c) => c.notNull())
      .addColumn('before', 'text')
      .addPrimaryKeyConstraint('release_changes_pk', ['release_id', 'idx'])
      .execute();
  },
};
