import type { Kysely, Migration } from 'kysely';

/** Build listings filter by app and/or status and page by id; without these SQLite sorts every match. */
export const buildListIndexes: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex('builds_app_status_id')
      .on('builds')
      .columns(['app_id', 'status', 'id'])
      .execute();
    await db.schema.createIndex('builds_app_id').on('builds').columns(['app_id', 'id']).execute();
    await db.schema.createIndex('builds_status_id').on('builds').columns(['status', 'id']).execute();
  },
};
