import { pathToFileURL } from 'node:url';
import type { MetricsInput, MetricsReport } from '../packages/server/src/features/metrics/engine/index.js';
import { reportFromEvents } from '../packages/server/src/features/metrics/engine/index.js';
import { recordInBulk } from '../packages/server/src/features/metrics/metrics-ledger.js';
import { rng } from '../packages/server/test/metrics/fixtures.js';
import { seedHistory } from '../packages/server/test/support/metrics-seed.js';
import { PG_URL, reachable, Scope, startBenchServer } from './support.js';

const DAY = 86_400_000;
const YEAR_START = Date.UTC(2025, 0, 6); // a Monday

const iso = (t: number) => new Date(t).toISOString();
const shaOf = (n: number) => n.toString(16).padStart(40, '0');

/**
 * One year of one app's production history: `deployments` deployments, `commitsPerDeployment`
 * commits each on average (a merge every fifth commit, from a short side branch), 3 % rollbacks to
 * an earlier SHA, reverts, incidents after 2 % of deployments, one build per deployment.
 */
export function yearOfHistory(deployments = 100_000, commitsPerDeployment = 10, seed = 42): MetricsInput {
  const r = rng(seed);
  const step = (365 * DAY) / deployments;
  const commits: MetricsInput['commits'] = [];
  const out: MetricsInput['deployments'] = [];
  const incidents: MetricsInput['incidents'] = [];
  const builds: MetricsInput['builds'] = [];
  let n = 0;
  let tip: string | null = null;
  const shipped: string[] = [];
  for (let i = 0; i < deployments; i++) {
    const at = YEAR_START + Math.floor(i * step + r() * step * 0.5);
    const batch = 1 + Math.floor(r() * (2 * commitsPerDeployment - 1));
    for (let k = 0; k < batch; k++) {
      const sha = shaOf(++n);
      const parents = tip ? [tip] : [];
      // A merge: the previous commit becomes a side branch joined here.
      if (tip && k > 0 && n % 5 === 0 && commits.length > 2) parents.push(commits[commits.length - 2]!.sha);
      const reverts =
        r() < 0.002 && shipped.length > 10 ? shipped[shipped.length - 1 - Math.floor(r() * 10)] : null;
      commits.push({
        sha,
        parents,
        committedAt: iso(at - Math.floor(r() * 6 * 3_600_000) - 60_000),
        message: reverts ? `Revert "change"\n\nThis reverts commit ${reverts}.\n` : `change ${n}`,
      });
      tip = sha;
    }
    const rollback = r() < 0.03 && shipped.length > 3;
    const sha = rollback ? shipped[shipped.length - 2]! : tip!;
    const requested = at - 2_000 - Math.floor(r() * 1_000);
    out.push({
      id: `dep_${i}`,
      app: 'web',
      env: 'production',
      sha,
      status: r() < 0.005 ? 'failed' : 'succeeded',
      trigger: rollback ? 'rollback' : 'tag',
      requestedAt: iso(requested),
      startedAt: iso(requested + 100),
      finishedAt: iso(at),
    });
    if (!rollback) shipped.push(sha);
    builds.push({
      id: `bld_${i}`,
      app: 'web',
      sha: tip!,
      status: 'succeeded',
      queuedAt: iso(at - 300_000),
      startedAt: iso(at - 290_000),
      finishedAt: iso(at - 290_000 + 60_000 + Math.floor(r() * 600_000)),
    });
    if (r() < 0.02) {
      const opened = at + Math.floor(r() * step);
      incidents.push({
        id: `inc_${i}`,
        app: 'web',
        env: 'production',
        openedAt: iso(opened),
        resolvedAt: iso(opened + Math.floor(r() * 3_600_000)),
      });
    }
  }
  return { commits, deployments: out, incidents, builds };
}

export interface EngineRun {
  engine: 'sqlite' | 'postgres';
  /** Writing the history into the tables (test support, not a product path). */
  seedMs: number;
  /** The ledger facts of the whole year, computed in memory and stored in bulk (backfill path). */
  ledgerMs: number;
  /** GET /api/metrics for the whole year, per week: every run, then the figures. */
  reportMs: number[];
  firstMs: number;
  medianMs: number;
  maxMs: number;
  /** One more deployment recorded the way a live server does, through the database. */
  liveRecordMs: number[];
  liveRecordMedianMs: number;
  check: { deployments: number; leadTimes: number; failed: number; matchesEngine: boolean };
}

export interface MetricsBench {
  deployments: number;
  commits: number;
  goalMs: number;
  /** The same year computed by the engine straight from the events list (no database). */
  inMemoryMs: number;
  engines: EngineRun[];
  skipped: { engine: string; reason: string }[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = (s.length - 1) / 2;
  return (s[Math.floor(m)]! + s[Math.ceil(m)]!) / 2;
};

/**
 * All metrics over one year with 100,000 deployments and 1,000,000 commits, through the API on SQLite
 * and PostgreSQL (goal < 2 s), and the engine alone on the same events for comparison.
 */
export async function benchMetrics(
  opts: { deployments?: number; rounds?: number; pgUrl?: string } = {},
): Promise<MetricsBench> {
  const deployments = opts.deployments ?? 100_000;
  const rounds = opts.rounds ?? 5;
  const window = { from: iso(YEAR_START), to: iso(YEAR_START + 52 * 7 * DAY) };
  const q = `/api/metrics?app=web&env=production&from=${window.from}&to=${window.to}&bucket=week`;
  let commits = 0;
  const t0 = performance.now();
  const expected = JSON.stringify(
    await reportFromEvents(yearOfHistory(deployments), {
      app: 'web',
      env: 'production',
      ...window,
      bucket: 'week',
    }),
  );
  const inMemoryMs = performance.now() - t0;

  const result: MetricsBench = { deployments, commits, goalMs: 2000, inMemoryMs, engines: [], skipped: [] };
  const wanted: { engine: EngineRun['engine']; url?: string }[] = [{ engine: 'sqlite' }];
  const pgUrl = opts.pgUrl ?? PG_URL;
  const problem = await reachable(pgUrl);
  if (problem) result.skipped.push({ engine: 'postgres', reason: problem });
  else wanted.push({ engine: 'postgres', url: pgUrl });

  for (const { engine, url } of wanted) {
    const scope = new Scope();
    try {
      const s = await startBenchServer(scope, url);
      const g = s.server.gantry;
      // The history lives only inside this function: a server does not hold a million commits in memory,
      // so neither does this process while it measures.
      const loaded = await (async () => {
        const input = yearOfHistory(deployments);
        commits = input.commits.length;
        // All but the last deployment go in as history; the last is recorded live below.
        const last = input.deployments.filter((d) => d.status === 'succeeded').at(-1)!;
        let t = performance.now();
        const ids = await seedHistory(g.database.db, {
          ...input,
          deployments: input.deployments.filter((d) => d !== last),
        });
        const seedMs = performance.now() - t;
        const appId = ids.get('web')!;
        const store = g.metricsLedger.store;
        t = performance.now();
        await recordInBulk(
          store,
          appId,
          'production',
          input.commits,
          await store.unrecorded(appId, 'production'),
        );
        const ledgerMs = performance.now() - t;
        await seedHistory(g.database.db, { commits: [], deployments: [last], incidents: [], builds: [] });
        return { appId, seedMs, ledgerMs };
      })();
      let t = performance.now();
      await g.metricsLedger.catchUp(loaded.appId, 'production');
      const liveRecordMs = [performance.now() - t];

      const reportMs: number[] = [];
      let report: MetricsReport | undefined;
      for (let i = 0; i < rounds; i++) {
        t = performance.now();
        report = await s.api<MetricsReport>('GET', q);
        reportMs.push(performance.now() - t);
      }
      result.engines.push({
        engine,
        seedMs: loaded.seedMs,
        ledgerMs: loaded.ledgerMs,
        reportMs,
        firstMs: reportMs[0]!,
        medianMs: median(reportMs),
        maxMs: Math.max(...reportMs),
        liveRecordMs,
        liveRecordMedianMs: median(liveRecordMs),
        check: {
          deployments: report!.deploymentFrequency.deployments,
          leadTimes: report!.leadTime.n,
          failed: report!.changeFailureRate.failed,
          matchesEngine: JSON.stringify(report) === expected,
        },
      });
    } finally {
      await scope.close();
    }
  }
  result.commits = commits;
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.argv[2] ?? 100_000);
  console.log(JSON.stringify(await benchMetrics({ deployments: n }), null, 2));
}
