import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteDialect } from 'kysely';
import type { DialectCapabilities } from './dialect-capabilities.js';

export const sqliteCapabilities: DialectCapabilities = {
  serialType: 'integer',
  serialColumn: (col) => col.primaryKey().autoIncrement(),
  blobType: 'blob',
  supportsSkipLocked: false,
  label: 'sqlite',
};

export function createSqliteDialect(file: string): SqliteDialect {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return new SqliteDialect({ database: db });
}
