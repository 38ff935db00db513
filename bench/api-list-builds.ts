import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import type { Db } from '../packages/server/src/db/database.js';
import type { BuildsTable } from '../packages/server/src/db/schema.js';
import { newId } from '../packages/server/src/ids.js';
import { PG_URL, reachable, Scope, startBenchServer } from './support.js';

export interface Round {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
}

export interface EndpointLoad extends Round {
  path: string;
  /** Items in one response, checked before the load. */
  items: number;
  bytes: number;
  /** Every measured round; the fields above are the round with the most requests/s. */
  rounds: Round[];
}

export interface EngineLoad {
  engine: 'sqlite' | 'postgres';
  builds: number;
  insertMs: number;
  endpoints: EndpointLoad[];
}

export interface ApiListBuilds {
  builds: number;
  connections: number;
  durationSec: number;
  rounds: number;
  engines: EngineLoad[];
  /** Why an engine was left out (PostgreSQL not reachable). */
  skipped: { engine: string; reason: string }[];
}

export interface ApiListBuildsOptions {
  builds?: number;
  connections?: number;
  durationSec?: number;
  warmupSec?: number;
  rounds?: number;
  pgUrl?: string;
}

const APPS = ['web', 'api', 'worker', 'docs'];
const FILTER_APP = 'api';
const PATHS = ['/api/builds', `/api/builds?app=${FILTER_APP}&status=succeeded`];
const BATCH = 500;

/**
 * Loads `GET /api/builds` with 10,000 stored builds on SQLite and (if reachable) PostgreSQL. Both
 * servers run at once and the rounds alternate between them, so a noisy spell on a shared machine
 * hits both engines rather than one.
 */
export async function benchApiListBuilds(opts: ApiListBuildsOptions = {}): Promise<ApiListBuilds> {
  const builds = opts.builds ?? 10_000;
  const connections = opts.connections ?? 10;
  const durationSec = opts.durationSec ?? 5;
  const warmupSec = opts.warmupSec ?? 1;
  const rounds = opts.rounds ?? 2;
  const pgUrl = opts.pgUrl ?? PG_URL;
  const result: ApiListBuilds = { builds, connections, durationSec, rounds, engines: [], skipped: [] };
  const wanted: { engine: EngineLoad['engine']; url?: string }[] = [{ engine: 'sqlite' }];
  const pgProblem = await reachable(pgUrl);
  if (pgProblem) result.skipped.push({ engine: 'postgres', reason: pgProblem });
  else wanted.push({ engine: 'postgres', url: pgUrl });

  const scope = new Scope();
  try {
    const targets: { load: EngineLoad; url: string; token: string }[] = [];
    for (const { engine, url } of wanted) {
      const bench = await startBenchServer(scope, url);
      const db = bench.server.gantry.database.db;
      const started = performance.now();
      await seed(db, builds);
      const insertMs = Math.round(performance.now() - started);
      // Autovacuum analyzes a bulk-loaded table within a minute; measure that steady state, not
      // the planner's guesses right after the load. SQLite has no such daemon and Gantry runs no ANALYZE.
      if (engine === 'postgres') await sql`analyze builds`.execute(db);
      const load: EngineLoad = { engine, builds, insertMs, endpoints: [] };
      for (const path of PATHS) {
        const res = await fetch(`${bench.server.url}${path}`, {
          headers: { authorization: `Bearer ${bench.token}` },
        });
        const body = await res.text();
        const items = (JSON.parse(body) as unknown[]).length;
        if (res.status !== 200 || items !== 50)
          throw new Error(`${engine} ${path} → ${res.status}, ${items} items`);
        load.endpoints.push({ path, items, bytes: Buffer.byteLength(body), ...EMPTY, rounds: [] });
      }
      targets.push({ load, url: bench.server.url, token: bench.token });
      result.engines.push(load);
    }

    for (let round = 0; round < rounds; round++) {
      for (const [i, path] of PATHS.entries()) {
        for (const { load, url, token } of targets) {
          const run = (duration: number) =>
            autocannon({
              url: `${url}${path}`,
              connections,
              duration,
              // The load generator gets its own thread so it does not share the server's event loop.
              workers: 1,
              headers: { authorization: `Bearer ${token}` },
            });
          if (round === 0) await run(warmupSec);
          const r = await run(durationSec);
          const endpoint = load.endpoints[i]!;
          endpoint.rounds.push({
            requestsPerSec: Math.round(r.requests.average),
            p50Ms: r.latency.p50,
            p99Ms: r.latency.p99,
            maxMs: r.latency.max,
            non2xx: r.non2xx,
            errors: r.errors,
          });
          const best = endpoint.rounds.reduce((a, b) => (b.requestsPerSec > a.requestsPerSec ? b : a));
          Object.assign(endpoint, best);
        }
      }
    }
    return result;
  } finally {
    await scope.close();
  }
}

const EMPTY: Round = { requestsPerSec: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, non2xx: 0, errors: 0 };

/** Apps plus `count` finished builds spread over them, oldest first so ids and times agree. */
async function seed(db: Db, count: number): Promise<void> {
  const now = Date.now();
  const appIds = APPS.map(() => newId('app'));
  await db
    .insertInto('apps')
    .values(
      APPS.map((name, i) => ({
        id: appIds[i]!,
        name,
        repo_url: `/srv/git/${name}.git`,
        branch: 'main',
        webhook_secret: 'bench-secret',
        poll_interval_ms: 0,
        head_sha: null,
        created_at: new Date(now - count * 60_000).toISOString(),
      })),
    )
    .execute();
  await db.transaction().execute(async (trx) => {
    for (let from = 0; from < count; from += BATCH) {
      const rows: BuildsTable[] = [];
      for (let i = from; i < Math.min(count, from + BATCH); i++) rows.push(buildRow(i, count, now, appIds));
      await trx.insertInto('builds').values(rows).execute();
    }
  });
}

function buildRow(i: number, count: number, now: number, appIds: string[]): BuildsTable {
  const queued = now - (count - i) * 60_000;
  const status =
    i % 20 === 7 ? 'superseded' : i % 10 === 3 ? 'failed' : i % 33 === 5 ? 'cancelled' : 'succeeded';
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: newId('bld'),
    app_id: appIds[i % appIds.length]!,
    sha: (i * 2654435761).toString(16).padStart(40, '0').slice(-40),
    status,
    reason: 'push',
    requested_by: 'git:bench',
    queued_at: iso(queued),
    started_at: status === 'superseded' ? null : iso(queued + 1_000),
    finished_at: iso(queued + 45_000),
    heartbeat_at: status === 'superseded' ? null : iso(queued + 44_000),
    runner_id: status === 'superseded' ? null : 'bench:1:000000',
    attempt: 1,
    cancel_requested: status === 'cancelled' ? 1 : 0,
    slo_ms: 600_000,
    slo_breached: 0,
    exit_code: status === 'succeeded' ? 0 : status === 'failed' ? 1 : null,
    error:
      status === 'failed' ? 'step "test" failed with exit code 1; last lines:\nnpm ERR! Test failed.' : null,
    artifact_id: status === 'succeeded' ? newId('art') : null,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchApiListBuilds(), null, 2));
}
