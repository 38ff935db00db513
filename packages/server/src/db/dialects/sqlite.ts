import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteDialect } from 'kysely';
import type { DialectCapabilities } from './dialect-capabilities.js';

export const sqliteCapabilities: DialectCapabilities = {
  serialType: 'integer',
  serialColumn: (col) => col.primaryKey().autoIncrement(),
  blobType: 'blob',
  supportsSkipLocked: false,
  notifies: false,
  label: 'sqlite',
};

export function createSqliteDialect(file: string): SqliteDialect {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // The database holds webhook secrets and token hashes: owner only, whatever the umask. SQLite
  // gives its -wal and -shm files the mode of the database file; existing ones are fixed here too.
  if (file !== ':memory:') {
    closeSync(openSync(file, 'a', 0o600));
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return new SqliteDialect({ database: db });
}
