import type { Kysely, Migration } from 'kysely';

/** The hash a chain starts from before its first row. */
export const AUDIT_GENESIS = '0'.repeat(64);

/**
 * The audit log (features/audit): one row per change made through the API, hash-chained in `seq`
 * order. `seq` is given by the writer under the lock on `audit_head` (never by the engine), so a
 * deleted row leaves a gap. `audit_head` is one row: the last row written (appends lock it, so the
 * chain never forks, on one server or several on one PostgreSQL) and the anchor, the last row
 * pruned by retention, where verification starts.
 */
export const audit: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('audit_log')
      .addColumn('seq', 'bigint', (c) => c.primaryKey())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('principal_name', 'text')
      .addColumn('principal', 'text')
      .addColumn('method', 'text', (c) => c.notNull())
      .addColumn('route', 'text', (c) => c.notNull())
      .addColumn('params', 'text', (c) => c.notNull())
      .addColumn('query', 'text')
      .addColumn('app', 'text')
      .addColumn('env', 'text')
      .addColumn('ip', 'text')
      .addColumn('user_agent', 'text')
      .addColumn('request_id', 'text')
      .addColumn('status', 'integer', (c) => c.notNull())
      .addColumn('body', 'text')
      .addColumn('before', 'text')
      .addColumn('after', 'text')
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
    await db.schema.createIndex('audit_log_app').on('audit_log').columns(['app', 'seq']).execute();
    await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['actor', 'seq']).execute();
    await db.schema
      .createTable('audit_head')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('anchor_seq', 'bigint', (c) => c.notNull())
      .addColumn('anchor_hash', 'text', (c) => c.notNull())
      .execute();
    await (db as Kysely<{ audit_head: Record<string, unknown> }>)
      .insertInto('audit_head')
      .values({ id: 1, seq: 0, hash: AUDIT_GENESIS, anchor_seq: 0, anchor_hash: AUDIT_GENESIS })
      .execute();
  },
};
