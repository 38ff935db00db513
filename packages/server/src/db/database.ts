import { join } from 'node:path';
import { Kysely } from 'kysely';
import type { DialectCapabilities } from './dialects/dialect-capabilities.js';
import { createPostgresDialect, postgresCapabilities } from './dialects/postgres.js';
import { createSqliteDialect, sqliteCapabilities } from './dialects/sqlite.js';
import { migrateToLatest } from './migrate.js';
import type { Schema } from './schema.js';

export type Db = Kysely<Schema>;

export interface Database {
  db: Db;
  caps: DialectCapabilities;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** `postgres://…` for PostgreSQL; otherwise SQLite in `<dataDir>/gantry.db`. */
  url?: string;
  dataDir: string;
  /** PostgreSQL only: a schema to use (tests isolate themselves this way). */
  schema?: string;
  /** PostgreSQL only: a pooled connection broke; the pool replaces it on the next query. */
  onConnectionError?(err: Error): void;
  /** PostgreSQL only: this server's id, recorded with each event it appends (src/cluster). */
  origin?: string;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  const isPg = opts.url?.startsWith('postgres://') || opts.url?.startsWith('postgresql://');
  const caps = isPg ? postgresCapabilities : sqliteCapabilities;
  const dialect = isPg
    ? createPostgresDialect(opts.url!, {
        searchPath: opts.schema,
        onConnectionError: opts.onConnectionError,
        origin: opts.origin,
      })
    : createSqliteDialect(
        opts.url?.startsWith('sqlite:') ? opts.url.slice(7) : join(opts.dataDir, 'gantry.db'),
      );
  const db = new Kysely<Schema>({ dialect });
  if (isPg && opts.schema) {
    await db.schema.createSchema(opts.schema).ifNotExists().execute();
  }
  await migrateToLatest(db as unknown as Kysely<unknown>, caps, isPg ? opts.schema : undefined);
  return { db, caps, close: () => db.destroy() };
}
