import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestEngine {
  name: 'sqlite' | 'postgres';
  /** For postgres: the URL; each test gets its own schema. */
  url?: string;
}

/** SQLite always; PostgreSQL when TEST_PG_URL is set (CI always sets it). */
export const engines: TestEngine[] = [
  { name: 'sqlite' },
  ...(process.env.TEST_PG_URL ? [{ name: 'postgres' as const, url: process.env.TEST_PG_URL }] : []),
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
