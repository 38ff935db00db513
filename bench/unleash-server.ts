import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type Scope, sleep } from './support.js';

export interface UnleashServer {
  url: string;
  version: string;
  database: string;
  environment: string;
  adminToken: string;
  /** A backend (client) token for `/api/client/*`. */
  clientToken: string;
  frontendToken: string;
  admin<T>(method: string, path: string, body?: unknown): Promise<T>;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENVIRONMENT = 'development';
// The config travels in an env var, so nothing is written to disk.
const MAIN = `import { start } from 'unleash-server';
start(JSON.parse(process.env.GANTRY_BENCH_UNLEASH)).catch((err) => {
  console.error(err);
  process.exit(1);
});`;
const NO_LIMIT = 100_000_000;

/**
 * The real unleash-server npm package in a child process (NODE_ENV=production, as its Docker image
 * runs it) on a fresh PostgreSQL database, which is dropped on close.
 */
export async function startUnleashServer(scope: Scope, pgUrl: string): Promise<UnleashServer> {
  const secret = () => randomBytes(28).toString('hex');
  const adminToken = `*:*.${secret()}`;
  const clientToken = `*:${ENVIRONMENT}.${secret()}`;
  const frontendToken = `*:${ENVIRONMENT}.${secret()}`;
  const database = `unleash_bench_${randomBytes(6).toString('hex')}`;
  await createDatabase(pgUrl, database);
  scope.defer(() => dropDatabase(pgUrl, database));

  const db = new URL(pgUrl);
  const port = await freePort();
  const config = {
    db: {
      user: decodeURIComponent(db.username) || 'postgres',
      password: decodeURIComponent(db.password),
      host: db.hostname,
      port: Number(db.port || 5432),
      database,
      ssl: false,
    },
    server: { port, host: '127.0.0.1' },
    versionCheck: { enable: false },
    logLevel: 'error',
    // Its SDK endpoints allow 20,000 requests a minute per client by default; a load test would
    // only measure 429s. The limiter itself still runs.
    rateLimiting: { sdkApiMaxPerMinute: NO_LIMIT, tokenAuthenticationMaxPerMinute: NO_LIMIT },
  };
  const child = spawn(process.execPath, ['--input-type=module', '-e', MAIN], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      SEND_TELEMETRY: 'false',
      CHECK_VERSION: 'false',
      // Its delta API (`/api/client/delta`) is behind this flag; the bench asks whether it answers.
      UNLEASH_EXPERIMENTAL_DELTA_API: 'true',
      INIT_ADMIN_API_TOKENS: adminToken,
      INIT_BACKEND_API_TOKENS: clientToken,
      INIT_FRONTEND_API_TOKENS: frontendToken,
      GANTRY_BENCH_UNLEASH: JSON.stringify(config),
    },
  });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  scope.defer(() => stop(child));

  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`unleash-server exited with ${child.exitCode}:\n${log}`);
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > until) throw new Error(`unleash-server did not answer /health in 90 s:\n${log}`);
    await sleep(100);
  }

  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: adminToken,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`unleash-server ${method} ${path} → ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const { version } = JSON.parse(
    await readFile(new URL('../node_modules/unleash-server/package.json', import.meta.url), 'utf8'),
  ) as { version: string };
  return {
    url,
    version,
    database,
    environment: ENVIRONMENT,
    adminToken,
    clientToken,
    frontendToken,
    admin,
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, 'exit');
  const group = -child.pid;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(group, s);
    } catch {}
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function withClient<T>(pgUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function createDatabase(pgUrl: string, name: string): Promise<unknown> {
  return withClient(pgUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
}

function dropDatabase(pgUrl: string, name: string): Promise<unknown> {
  return withClient(pgUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
