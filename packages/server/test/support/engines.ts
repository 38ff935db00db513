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

export function freshSchemaName(): string {
  return `t_${randomBytes(6).toString('hex')}`;
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
