import type { Kysely, Migration } from 'kysely';
import type { DialectCapabilities } from '../dialects/dialect-capabilities.js';

/**
 * Build step logs in the database (features/builds/shared-build-logs.ts): with several servers on
 * PostgreSQL a build's log is read from any of them, and an agent's log chunks land in one place
 * whichever server received them. Each row is a run of bytes at `start` in the step's log. On
 * SQLite (one server) the data dir's files stay the only copy and the table stays empty.
 */
export function buildLogChunks(caps: DialectCapabilities): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('build_log_chunks')
        .addColumn('build_id', 'text', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('start', 'integer', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('data', caps.blobType, (c) => c.notNull())
        .addColumn('written_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('build_log_chunks_pk', ['build_id', 'idx', 'start'])
        .execute();
    },
  };
}
