import pg from 'pg';
import pino from 'pino';
import { loadServerConfig, type ServerConfig } from '../../src/config/server-config.js';
import { startServer } from '../../src/start-server.js';
import { freshSchemaName, releaseSchema } from '../support/engines.js';
import { makeTempDir } from '../support/git-fixtures.js';
import { apiCall, type TestServer } from '../support/test-server.js';

/** The PostgreSQL the tests use (CI always sets it). */
export const pgUrl = process.env.TEST_PG_URL;

export interface ServerGroup {
  servers: TestServer[];
  schema: string;
  /** A connection of the test's own, outside every server (to kill backends, to write behind their backs). */
  admin: pg.Client;
  close(): Promise<void>;
}

/**
 * `count` real servers, each with its own data dir and port, on one PostgreSQL schema: the first
 * migrates it and makes the admin token, which the others accept as theirs (it is one database).
 */
export async function startServerGroup(
  url: string,
  count: number,
  overrides: Partial<ServerConfig> = {},
  /** A dropped LISTEN connection is made again after this (1 s: a test can append while it is down). */
  retryMs = 1_000,
  /** Whether the servers run builds and deployments (their runners, deployers and leader duties). */
  background = false,
): Promise<ServerGroup> {
  const schema = freshSchemaName();
  const servers: TestServer[] = [];
  let token = '';
  for (let i = 0; i < count; i++) {
    const dataDir = await makeTempDir(`gantry-cluster-${i}-`);
    const { config } = loadServerConfig(
      {
        dataDir,
        port: 0,
        databaseUrl: url,
        defaultPollIntervalMs: 0,
        logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
        ...overrides,
      },
      {},
    );
    const running = await startServer(config, {
      schema,
      background,
      cluster: { retryMs },
      logger: pino({ level: config.logLevel }),
    });
    token ||= running.adminToken!;
    servers.push({
      ...running,
      token,
      dataDir,
      api: <T>(method: string, path: string, body?: unknown) =>
        apiCall<T>(running.url, token, method, path, body),
      close: () => running.stop(),
    });
  }
  const admin = new pg.Client({ connectionString: url, application_name: 'gantry-test-admin' });
  await admin.connect();
  await admin.query(`SET search_path TO "${schema}"`);
  return {
    servers,
    schema,
    admin,
    async close() {
      await admin.end();
      for (const s of servers) await s.close();
      await releaseSchema(url, schema);
    },
  };
}

/** Reads a server-sent event stream: every event's name and parsed data, and whether it ended. */
export function readStream(url: string, headers: Record<string, string>) {
  const ac = new AbortController();
  const events: { event: string; data: string; id?: string }[] = [];
  let ended = false;
  let status = 0;
  let open!: () => void;
  let fail!: (err: unknown) => void;
  const opened = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  const done = (async () => {
    const res = await fetch(url, { headers, signal: ac.signal });
    status = res.status;
    if (!res.ok || !res.body) throw new Error(`${url} → ${res.status}`);
    open();
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (name: string) =>
          block
            .split('\n')
            .find((l) => l.startsWith(`${name}:`))
            ?.slice(name.length + 1)
            .trim();
        const event = field('event');
        if (event) events.push({ event, data: field('data') ?? '', id: field('id') });
        end = buffer.indexOf('\n\n');
      }
    }
  })()
    .catch((err: unknown) => {
      if (!ac.signal.aborted) fail(err);
    })
    .finally(() => {
      ended = true;
    });
  return {
    opened,
    events,
    get ended() {
      return ended;
    },
    get status() {
      return status;
    },
    done,
    close: () => ac.abort(),
  };
}
