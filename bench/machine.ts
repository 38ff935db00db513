import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { median, PG_URL } from './support.js';

export interface Machine {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  sqlite: string;
  postgres: string;
  git: string;
  /** Median time to spawn `git --version` from Node: most of Gantry's git work is process spawns. */
  gitSpawnMs: number;
}

const run = promisify(execFile);

export async function describeMachine(pgUrl = PG_URL): Promise<Machine> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  const sqliteDb = new Database(':memory:');
  const sqlite = (sqliteDb.prepare('select sqlite_version() as v').get() as { v: string }).v;
  sqliteDb.close();
  const spawns: number[] = [];
  let git = '';
  for (let i = 0; i < 10; i++) {
    const started = performance.now();
    git = (await run('git', ['--version'])).stdout.trim().replace(/^git version /, '');
    spawns.push(performance.now() - started);
  }
  return {
    date: new Date().toISOString(),
    cpu,
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    sqlite,
    postgres: await postgresVersion(pgUrl),
    git,
    gitSpawnMs: Math.round(median(spawns) * 10) / 10,
  };
}

async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ version: string }>('select version()');
    return rows[0]?.version ?? 'unknown';
  } catch (err) {
    return `not reachable (${err instanceof Error ? err.message : String(err)})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}
