import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestEngine {
  name: 'sqlite' | 'postgres';
  /** For postgres: the URL; each test gets its own schema. */
  url?: string;
}

/** Advisory lock class of the per-file test databases (see leaseDatabase). */
const LEASE_CLASS = 0x67616e74;

/**
 * A database of the test file's own on the PostgreSQL at `base`, leased for as long as this worker
 * process lives (vitest's forks pool runs each file in a process of its own).
 *
 * Kysely's migrator reads the tables of every schema in the database before it migrates one, so with
 * the schemas of a whole run in one database each test server's start got slower as the run went on
 * (about 10 ms of PostgreSQL and client time more per schema). A file's database holds only that
 * file's schemas. The databases (`gantry_test_<n>`) stay for the next files and runs: a file takes
 * the first whose advisory lock is free and drops the schemas the previous holder left there.
 */
async function leaseDatabase(base: string): Promise<string> {
  const lease = new pg.Client({ connectionString: base });
  await lease.connect();
  // The lock lives as long as this connection, i.e. as long as the worker process.
  lease.on('error', (err) => process.stderr.write(`test database lease lost: ${err.message}\n`));
  let slot = 0;
  for (; ; slot++) {
    const { rows } = await lease.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
      LEASE_CLASS,
      slot,
    ]);
    if (rows[0]?.ok) break;
  }
  const name = `gantry_test_${slot}`;
  await lease.query(`CREATE DATABASE "${name}" TEMPLATE template0`).catch((e: { code?: string }) => {
    if (e.code !== '42P04') throw e; // there from an earlier file or run
  });
  const url = new URL(base);
  url.pathname = `/${name}`;
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  try {
    const { rows } = await db.query<{ name: string }>(
      "SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 't\\_%'",
    );
    for (const { name: schema } of rows) await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await db.end();
  }
  return url.toString();
}

/** The run's PostgreSQL (test/global-setup.ts); when a run is on, a database of this file's own there. */
async function testPgUrl(): Promise<string | undefined> {
  const base = process.env.TEST_PG_BASE_URL ?? process.env.TEST_PG_URL;
  if (!base || !process.env.TEST_PG_RUN) return base;
  process.env.TEST_PG_BASE_URL = base;
  // Whatever else in this process reads TEST_PG_URL (servers it spawns too) uses the file's database.
  process.env.TEST_PG_URL = await leaseDatabase(base);
  return process.env.TEST_PG_URL;
}

const pgUrl = await testPgUrl();

/** SQLite always; PostgreSQL when TEST_PG_URL is set (CI always sets it). */
export const engines: TestEngine[] = [
  { name: 'sqlite' },
  ...(pgUrl ? [{ name: 'postgres' as const, url: pgUrl }] : []),
];

/**
 * A schema of its own for one test database. Names carry the run's id (test/global-setup.ts), and the
 * run drops its schemas at its end: dropping one while other tests migrate theirs made Kysely's
 * migrator fail now and then (it introspects the tables of every schema, and one vanished under it).
 */
export function freshSchemaName(): string {
  return `t_${process.env.TEST_PG_RUN ?? 'solo'}_${randomBytes(6).toString('hex')}`;
}

/** Drops a test schema now, unless the run drops them all at its end. */
export async function releaseSchema(url: string, schema: string): Promise<void> {
  if (!process.env.TEST_PG_RUN) await dropSchema(url, schema);
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
