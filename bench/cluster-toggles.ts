import { type ChildProcess, fork } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { loadServerConfig } from '../packages/server/src/config/server-config.js';
import { type RunningServer, startServer } from '../packages/server/src/start-server.js';
import { git, median, PG_URL, percentile, Scope, within } from './support.js';

export interface ClusterTogglesResult {
  servers: number;
  /** Streaming SDK connections held, spread evenly over the servers. */
  clients: number;
  /** Connections that could not be opened (none is expected). */
  failedToConnect: number;
  changes: number;
  /** Change accepted by one server → the last client on any server has it, per change. */
  allUpdated: { medianMs: number; p95Ms: number; maxMs: number };
  /** Change accepted → each client has it, over every client and change. */
  perClient: { medianMs: number; p95Ms: number };
  /** The same, only the clients connected to servers that did not make the change. */
  otherServersP95Ms: number;
  goalMs: number;
  meetsGoal: boolean;
  /** Set when PostgreSQL could not be reached. */
  skipped?: string;
}

interface Member {
  server: RunningServer;
  api<T>(method: string, path: string, body?: unknown): Promise<T>;
}

/**
 * Three servers on one PostgreSQL schema and `clients` Unleash streaming connections spread over
 * them (in a child process: its own file descriptors and event loop); each change is made on one
 * server in turn, and timed until every client on every server has received it.
 */
export async function benchClusterToggles(clients = 3000, changes = 10): Promise<ClusterTogglesResult> {
  const scope = new Scope();
  const servers = 3;
  const empty = {
    servers,
    clients,
    failedToConnect: 0,
    changes: 0,
    allUpdated: { medianMs: 0, p95Ms: 0, maxMs: 0 },
    perClient: { medianMs: 0, p95Ms: 0 },
    otherServersP95Ms: 0,
    goalMs: 1000,
    meetsGoal: false,
  };
  try {
    let members: Member[];
    try {
      members = await startGroup(scope, servers, Math.ceil(clients / servers));
    } catch (err) {
      return { ...empty, skipped: `no PostgreSQL at ${PG_URL}: ${(err as Error).message}` };
    }
    const [a] = members as [Member];
    const repo = await makeRepo(scope);
    await a.api('POST', '/api/apps', { name: 'fleet', repoUrl: repo });
    await a.api('POST', '/api/apps/fleet/toggles', { name: 'fleet-flag' });
    const env = '/api/apps/fleet/toggles/fleet-flag/environments/production';
    await a.api('PUT', env, { enabled: false, strategies: [{ name: 'default' }] });
    const { token } = await a.api<{ token: string }>('POST', '/api/apps/fleet/client-tokens', {
      env: 'production',
    });

    const child = fork(new URL('./cluster-clients.ts', import.meta.url), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.setMaxListeners(0);
    scope.defer(async () => {
      child.send({ kind: 'stop' });
      await new Promise((r) => child.once('exit', r));
    });
    const perServer = Math.ceil(clients / servers);
    const opened = await ask<{ failed: number }>(
      child,
      { kind: 'open', urls: members.map((m) => m.server.url), token, perServer },
      'opened',
      600_000,
    );
    const all: number[] = [];
    const others: number[] = [];
    const last: number[] = [];
    const app = await a.server.gantry.apps.get('fleet');
    for (let i = 0; i < changes; i++) {
      const by = i % servers;
      const started = performance.timeOrigin + performance.now();
      await members[by]!.api('PUT', env, { enabled: i % 2 === 0 });
      const revision = await a.server.gantry.toggles.readStore().revision(app.id, 'production');
      const { times } = await ask<{ times: number[] }>(
        child,
        { kind: 'expect', revision },
        'updated',
        60_000,
      );
      const latencies = times.map((t) => Math.max(0, t - started));
      all.push(...latencies);
      // Clients were opened server after server: the first `perServer` on server 0, and so on.
      others.push(...latencies.filter((_, k) => Math.floor(k / perServer) !== by));
      last.push(Math.max(...latencies));
    }
    const round = (x: number) => Math.round(x);
    const allUpdated = {
      medianMs: round(median(last)),
      p95Ms: round(percentile(last, 95)),
      maxMs: round(Math.max(...last)),
    };
    return {
      servers,
      clients: perServer * servers - opened.failed,
      failedToConnect: opened.failed,
      changes,
      allUpdated,
      perClient: { medianMs: round(median(all)), p95Ms: round(percentile(all, 95)) },
      otherServersP95Ms: round(percentile(others, 95)),
      goalMs: 1000,
      meetsGoal: allUpdated.maxMs < 1000 && opened.failed === 0,
    };
  } finally {
    await scope.close();
  }
}

/** Sends `message` and resolves with the child's next answer of `kind`. */
export function ask<T>(child: ChildProcess, message: unknown, kind: string, ms: number): Promise<T> {
  return within(
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: { kind: string } & T) => {
        if (m.kind !== kind) return;
        child.off('message', onMessage);
        resolve(m);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`the clients' process exited (${code})`)));
      child.send(message as object);
    }),
    ms,
    `the clients' answer "${kind}"`,
  );
}

async function startGroup(scope: Scope, count: number, streamsPerServer: number): Promise<Member[]> {
  const schema = `bench_cluster_${process.pid}_${Date.now().toString(36)}`;
  const members: Member[] = [];
  let token = '';
  for (let i = 0; i < count; i++) {
    const dataDir = await scope.tempDir(`cluster-${i}`);
    const { config, errors } = loadServerConfig(
      {
        dataDir,
        port: 0,
        databaseUrl: PG_URL,
        defaultPollIntervalMs: 0,
        logLevel: 'silent',
        sseMaxPerToken: streamsPerServer + 10,
        sseMaxTotal: streamsPerServer + 100,
      },
      {},
    );
    if (errors.length) throw new Error(errors.join('; '));
    const server = await startServer(config, {
      schema,
      background: false,
      logger: pino({ level: 'silent' }),
    });
    if (i === 0) scope.defer(() => dropSchema(schema));
    scope.defer(() => within(server.stop(), 120_000, 'stopping a bench server'));
    token ||= server.adminToken!;
    const auth = token;
    members.push({
      server,
      async api<T>(method: string, path: string, body?: unknown): Promise<T> {
        const res = await fetch(`${server.url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${auth}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
        return (text ? JSON.parse(text) : undefined) as T;
      },
    });
  }
  return members;
}

async function dropSchema(schema: string): Promise<void> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** A repository with a gantry.yaml, for the app the toggles belong to (nothing is built). */
async function makeRepo(scope: Scope): Promise<string> {
  const root = await scope.tempDir('cluster-git');
  const bare = join(root, 'repo.git');
  const work = join(root, 'work');
  await git(['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  await git(['init', '--quiet', '--initial-branch=main', work]);
  await mkdir(work, { recursive: true });
  await writeFile(join(work, 'gantry.yaml'), 'build:\n  steps: []\n  artifact: { path: . }\n');
  await git(['add', '--all'], work);
  await git(['commit', '--quiet', '--no-verify', '-m', 'first'], work);
  await git(['push', '--quiet', bare, 'main'], work);
  return bare;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const clients = Number(process.argv[2] ?? 3000);
  const changes = Number(process.argv[3] ?? 10);
  console.log(JSON.stringify(await benchClusterToggles(clients, changes), null, 2));
}

/** The row in docs/benchmarks.md's table. */
export function clusterTogglesRow(c: ClusterTogglesResult): string {
  const what = `toggle change → all streaming clients on ${c.servers} servers (one PostgreSQL) updated`;
  if (c.skipped) return `| ${what} | skipped: ${c.skipped} | < 1 s |`;
  const a = c.allUpdated;
  return (
    `| ${what}: ${c.clients.toLocaleString('en')} clients, median / p95 / max of ${c.changes} changes ` +
    `| ${a.medianMs} / ${a.p95Ms} / ${a.maxMs} ms (each client: median ${c.perClient.medianMs} ms, p95 ${c.perClient.p95Ms} ms; ` +
    `on the servers that did not make the change, p95 ${c.otherServersP95Ms} ms${c.failedToConnect ? `; ${c.failedToConnect} could not connect` : ''}) ` +
    `| < 1 s ${c.meetsGoal ? '✅' : '❌'} |`
  );
}
