import { PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DialectCapabilities } from './dialect-capabilities.js';

// int8 (COUNT, bigserial) arrives as text by default; our values fit in a double.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

export const postgresCapabilities: DialectCapabilities = {
  serialType: 'bigserial',
  serialColumn: (col) => col.primaryKey(),
  blobType: 'bytea',
  supportsSkipLocked: true,
  label: 'postgres',
};

export function createPostgresDialect(url: string, searchPath?: string): PostgresDialect {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    ...(searchPath ? { options: `-c search_path=${searchPath}` } : {}),
  });
  return new PostgresDialect({ pool });
}
