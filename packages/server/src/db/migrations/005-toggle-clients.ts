import type { Kysely, Migration } from 'kysely';

/** SDK instances seen on `/api/client/register` and hourly usage counts from `/api/client/metrics`. */
export const toggleClients: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('toggle_clients')
      .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id'))
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('app_name', 'text', (c) => c.notNull())
      .addColumn('instance_id', 'text', (c) => c.notNull())
      .addColumn('sdk_version', 'text')
      .addColumn('strategies', 'text', (c) => c.notNull())
      .addColumn('interval_ms', 'bigint')
      .addColumn('started_at', 'text')
      .addColumn('first_seen_at', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('toggle_clients_pk', ['app_id', 'env', 'app_name', 'instance_id'])
      .execute();
    await db.schema
      .createTable('toggle_usage')
      .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id'))
      .addColumn('toggle', 'text', (c) => c.notNull())
      .addColumn('app_name', 'text', (c) => c.notNull())
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('hour', 'text', (c) => c.notNull())
      .addColumn('yes_count', 'bigint', (c) => c.notNull())
      .addColumn('no_count', 'bigint', (c) => c.notNull())
      .addColumn('variants', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('toggle_usage_pk', ['app_id', 'toggle', 'app_name', 'env', 'hour'])
      .execute();
  },
};
