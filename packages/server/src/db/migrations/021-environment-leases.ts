import type { Kysely, Migration } from 'kysely';
import type { DialectCapabilities } from '../dialects/dialect-capabilities.js';

/**
 * Several servers on one database.
 * - Environment leases: the server whose deployment holds an environment's slot renews
 *   `lease_expires_at` while it deploys; another server takes an expired lease over. `fence` grows
 *   by one at every claim and takeover: a driver passes it to what it switches (the
 *   per-environment proxy refuses a lower one), so a paused server that wakes up after a takeover
 *   cannot switch the environment back.
 * - Shared artifact blobs (`artifact_blobs`, `artifact_blob_chunks`): on PostgreSQL every packed
 *   artifact is kept in the database too, so a server deploys an artifact another server built.
 */
export function environmentLeases(caps: DialectCapabilities): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('environments').addColumn('lease_owner', 'text').execute();
      await db.schema.alterTable('environments').addColumn('lease_expires_at', 'text').execute();
      await db.schema
        .alterTable('environments')
        .addColumn('fence', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('artifact_blobs')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('chunks', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('artifact_blob_chunks')
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('n', 'integer', (c) => c.notNull())
        .addColumn('data', caps.blobType, (c) => c.notNull())
        .addPrimaryKeyConstraint('artifact_blob_chunks_pk', ['digest', 'n'])
        .execute();
    },
  };
}
