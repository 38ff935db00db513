import pino, { type Logger } from 'pino';
import { loadServerConfig, type ServerConfig } from '../../src/config/server-config.js';
import { type RunningServer, startServer } from '../../src/start-server.js';
import { freshSchemaName, releaseSchema, type TestEngine } from './engines.js';
import { makeTempDir } from './git-fixtures.js';

export interface TestServer extends RunningServer {
  token: string;
  dataDir: string;
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/** A real server on a free loopback port, with its own data dir and (for PostgreSQL) schema. */
export async function startTestServer(
  engine: TestEngine = { name: 'sqlite' },
  overrides: Partial<ServerConfig> = {},
  /** The server's logger; default pino at TEST_LOG_LEVEL (silent). */
  logger?: Logger,
): Promise<TestServer> {
  const dataDir = await makeTempDir('gantry-data-');
  // A given schema (overrides.databaseSchema) is a restart's: the same database as before.
  const schema = engine.name === 'postgres' ? (overrides.databaseSchema ?? freshSchemaName()) : undefined;
  const { config } = loadServerConfig(
    {
      dataDir,
      port: 0,
      databaseUrl: engine.url,
      defaultPollIntervalMs: 0,
      logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...overrides,
    },
    {},
  );
  const server = await startServer(config, { schema, logger: logger ?? pino({ level: config.logLevel }) });
  const token = server.adminToken!;
  return {
    ...server,
    token,
    dataDir,
    api: <T>(method: string, path: string, body?: unknown) =>
      apiCall<T>(server.url, token, method, path, body),
    async close() {
      // Nothing may start a deployment, a check or a build while the environments are being stopped.
      await server.gantry.verifier.stop();
      await server.gantry.deployer.stop();
      await server.gantry.runner.stop();
      await server.gantry.deployer.stopAllEnvironments();
      await server.stop();
      if (schema && !overrides.databaseSchema && engine.url) await releaseSchema(engine.url, schema);
    },
  };
}

/** One API call with `token`; the answer's status and parsed JSON body (any status). */
export async function apiCall<T = unknown>(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function waitFor<T>(check: () => Promise<T | undefined>, what: string, ms = 45_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
