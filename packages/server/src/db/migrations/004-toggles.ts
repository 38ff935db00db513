import type { Kysely, Migration } from 'kysely';
import type { DialectCapabilities } from '../dialects/dialect-capabilities.js';

export function toggles(caps: DialectCapabilities): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('toggles')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('owner', 'text')
        .addColumn('impression_data', 'integer', (c) => c.notNull())
        .addColumn('dependencies', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('archived_at', 'text')
        .addUniqueConstraint('toggles_app_name', ['app_id', 'name'])
        .execute();

      await db.schema
        .createTable('toggle_environments')
        .addColumn('toggle_id', 'text', (c) => c.notNull().references('toggles.id'))
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('strategies', 'text', (c) => c.notNull())
        .addColumn('variants', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('enabled_since', 'text')
        .addPrimaryKeyConstraint('toggle_environments_pk', ['toggle_id', 'env'])
        .execute();

      await db.schema
        .createTable('segments')
        .addColumn('id', caps.serialType, (c) => caps.serialColumn(c))
        .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('constraints', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('segments_app_name', ['app_id', 'name'])
        .execute();

      await db.schema
        .createTable('toggle_revisions')
        .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id'))
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('toggle_revisions_pk', ['app_id', 'env'])
        .execute();

      await db.schema.alterTable('tokens').addColumn('app_id', 'text').execute();
      await db.schema.alterTable('tokens').addColumn('env', 'text').execute();
    },
  };
}
