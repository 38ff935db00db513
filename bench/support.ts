import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Build } from '@gantry/contracts';
import pg from 'pg';
import pino from 'pino';
import { loadServerConfig } from '../packages/server/src/config/server-config.js';
import { runGit } from '../packages/server/src/git/git-cli.js';
import { installPostReceiveHook } from '../packages/server/src/git/post-receive-hook.js';
import { type RunningServer, startServer } from '../packages/server/src/start-server.js';

export const PG_URL = process.env.GANTRY_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Undo steps run newest first; every open scope is also closed on Ctrl-C (see run.ts). */
export class Scope {
  private static readonly open = new Set<Scope>();
  private readonly undo: (() => Promise<unknown>)[] = [];

  constructor() {
    Scope.open.add(this);
  }

  defer(fn: () => Promise<unknown>): void {
    this.undo.push(fn);
  }

  async tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `gantry-bench-${prefix}-`));
    this.defer(() => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));
    return dir;
  }

  async close(): Promise<void> {
    Scope.open.delete(this);
    for (const fn of this.undo.splice(0).reverse()) {
      await fn().catch((err: unknown) => console.error('bench cleanup failed:', err));
    }
  }

  static async closeAll(): Promise<void> {
    while (Scope.open.size) await Promise.all([...Scope.open].map((s) => s.close()));
  }
}

export interface BenchServer {
  server: RunningServer;
  token: string;
  api<T>(method: string, path: string, body?: unknown): Promise<T>;
}

/**
 * A real server on a free loopback port with its own data dir and, on PostgreSQL, its own schema.
 * `env` is what loadServerConfig reads besides the fixed overrides (e.g. GANTRY_REGISTRY); not process.env.
 */
export async function startBenchServer(
  scope: Scope,
  databaseUrl?: string,
  env: NodeJS.ProcessEnv = {},
): Promise<BenchServer> {
  const dataDir = await scope.tempDir('data');
  let schema: string | undefined;
  if (databaseUrl) {
    schema = `bench_${process.pid}_${Date.now().toString(36)}`;
    const name = schema;
    scope.defer(() => dropSchema(databaseUrl, name));
  }
  const { config, errors } = loadServerConfig(
    { dataDir, port: 0, databaseUrl, defaultPollIntervalMs: 0, logLevel: 'silent' },
    env,
  );
  if (errors.length) throw new Error(`bench server config: ${errors.join('; ')}`);
  const server = await startServer(config, { schema, logger: pino({ level: 'silent' }) });
  scope.defer(() => within(server.stop(), 120_000, 'stopping the bench server'));
  const token = server.adminToken!;
  return {
    server,
    token,
    async api<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
  };
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Bench repos must not depend on the machine's git config (signing, hooks, default branch …). */
const GIT_ENV = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
const IDENTITY = ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.com'];

export function git(args: string[], cwd?: string) {
  return runGit([...IDENTITY, ...args], { cwd, env: GIT_ENV });
}

const GANTRY_YAML = `app: bench
build:
  steps:
    - { name: noop, run: "true" }
  artifact: { path: dist }
`;

export interface PushResult {
  sha: string;
  /** Date.now() when `git push` returned (the post-receive hook has run by then). */
  returnedAt: number;
  pushMs: number;
}

export interface HookedApp {
  name: string;
  /** Commits a one-line change and pushes it. */
  push(): Promise<PushResult>;
  /** Polls `GET /api/builds?sha=` every `everyMs` until `done` accepts the build. */
  waitForBuild(sha: string, done: (b: Build) => boolean, everyMs?: number): Promise<Build>;
}

/**
 * A bare repo with a one-step (`true`) gantry.yaml and a tiny dist/, added as an app whose first
 * build has finished, with Gantry's post-receive hook installed.
 */
export async function createHookedApp(scope: Scope, bench: BenchServer, name: string): Promise<HookedApp> {
  const { bare, work } = await repoPair(scope);
  const write = async (path: string, text: string) => {
    await mkdir(dirname(join(work, path)), { recursive: true });
    await writeFile(join(work, path), text);
  };
  await write('gantry.yaml', GANTRY_YAML.replace('app: bench', `app: ${name}`));
  await write('dist/index.html', '<!doctype html><title>bench</title>\n');
  let n = 0;
  const commit = async () => {
    await write('dist/build.txt', `${n++}\n`);
    await git(['add', '--all'], work);
    await git(['commit', '--quiet', '--no-verify', '-m', `change ${n}`], work);
    return (await git(['rev-parse', 'HEAD'], work)).stdout.trim();
  };
  await commit();
  await git(['push', '--quiet', 'origin', 'main'], work);

  const api = bench.api;
  const waitForBuild: HookedApp['waitForBuild'] = async (sha, done, everyMs = 10) => {
    const until = Date.now() + 30_000;
    for (;;) {
      const [build] = await api<Build[]>('GET', `/api/builds?app=${name}&sha=${sha}`);
      if (build && done(build)) return build;
      if (Date.now() > until) throw new Error(`timed out waiting for the build of ${sha.slice(0, 7)}`);
      await sleep(everyMs);
    }
  };

  const added = await api<{ buildIds: string[]; headSha: string }>('POST', '/api/apps', {
    name,
    repoUrl: bare,
  });
  const first = await waitForBuild(added.headSha, isFinished, 50);
  if (first.status !== 'succeeded') throw new Error(`the first build of ${name} ${first.status}`);
  const { token } = await api<{ token: string }>('POST', `/api/apps/${name}/hook-token`);
  await installPostReceiveHook(bare, { serverUrl: bench.server.url, app: name, token });

  return {
    name,
    waitForBuild,
    async push() {
      const sha = await commit();
      const started = Date.now();
      await git(['push', '--quiet', 'origin', 'main'], work);
      const returnedAt = Date.now();
      return { sha, returnedAt, pushMs: returnedAt - started };
    },
  };
}

/** A bare repository (branch main) and a work clone whose origin it is, in a temp folder of the scope. */
export async function repoPair(scope: Scope): Promise<{ bare: string; work: string }> {
  const root = await scope.tempDir('git');
  const bare = join(root, 'repo.git');
  const work = join(root, 'work');
  await git(['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  await git(['init', '--quiet', '--initial-branch=main', work]);
  await git(['remote', 'add', 'origin', bare], work);
  return { bare, work };
}

export function isFinished(b: Build): boolean {
  return b.finishedAt !== null;
}

/** `p`, or a rejection naming `what` after `ms`: a bench cleanup that hangs must not hang the run. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function median(xs: number[]): number {
  return percentile(xs, 50);
}

/** Nearest-rank percentile. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** Undefined when PostgreSQL answers, else why not. */
export async function reachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (err) {
    return `${url}: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}
