import { isRollbackTrigger } from '@gantry/contracts';
/**
 * The Prometheus scrape endpoint, `GET /metrics` (docs/metrics.md, "Prometheus"). Every scrape fills
 * a fresh prom-client Registry from the database, so the numbers are right after a restart and the
 * same whichever of several servers on one database is scraped. Nothing is kept in memory between
 * scrapes.
 *
 * Cost per scrape: counts, open incidents and toggle evaluations are GROUP BY queries; durations need
 * one row per finished build and per rollback (date arithmetic differs between the engines); releases
 * one row per applied release and environment and one per toggle change (its JSON says whether it
 * switched a toggle on outside a release); the classification reads the ledger facts of each
 * environment once (linear, no commit graph).
 *
 * Counters and histograms are counts over all history, so they only grow; a figure over a sliding
 * window (lead time over the last 28 days) is a gauge, whose value may go down.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database, Db } from '../../db/database.js';
import type { TypedApp } from '../../http/route-kit.js';
import type { AppRecord } from '../apps/app-store.js';
import {
  DEFAULT_BUILD_SLO_MS,
  DEFAULT_ROLLBACK_SLO_MS,
  type DeploymentKind,
  type History,
  summarize,
} from './engine/index.js';
import { SqlMetricsStore } from './sql-metrics-store.js';
import { ToggleSwitchTally } from './toggle-switch-tally.js';

/** The window of the lead-time gauges, ending at the scrape. */
export const LEAD_TIME_WINDOW_DAYS = 28;
export const BUILD_DURATION_BUCKETS = [10, 30, 60, 120, 300, 600, 900, 1800, 3600];
export const BUILD_QUEUE_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
export const ROLLBACK_DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** The lead-time gauges: a windowed figure is a gauge, since it can go down (docs/metrics.md). */
export const LEAD_TIME_GAUGES = [
  ['p50', 'median'],
  ['p90', 'p90'],
  ['p95', 'p95'],
] as const;

const DAY_MS = 86_400_000;
/** Deployment statuses that are final. */
const FINISHED = ['succeeded', 'failed', 'rejected', 'superseded', 'interrupted'];
/** Builds counted for build time: cancelled and superseded ones are left out, as in the engine. */
const COUNTED_BUILDS = ['succeeded', 'failed', 'interrupted'];

const seconds = (ms: number) => Math.max(0, ms) / 1000;
const key = (...parts: string[]) => parts.join('\u0000');

export interface PrometheusDeps {
  db: Db;
  apps: { list(): Promise<AppRecord[]> };
  /** MetricsService: catches the ledger up and classifies one app's environment. */
  metrics: {
    history(
      app: AppRecord,
      env: string,
      opts: { samplesFrom: number; samplesTo: number; buildsFrom: string },
    ): Promise<{ history: History; samples: { at: Float64Array; lead: Float64Array } }>;
  };
  now?: () => number;
}

export class PrometheusExporter {
  private readonly toggleSwitches = new ToggleSwitchTally();

  constructor(private readonly d: PrometheusDeps) {}

  /** A new registry holding every family, read from the database now. */
  async collect(): Promise<Registry> {
    const now = this.d.now?.() ?? Date.now();
    const registry = new Registry();
    const registers = [registry];

    const deployments = new Counter({
      name: 'gantry_deployments_total',
      help: 'Finished deployments by app, environment, kind (change, redeploy, rollback, revert, fix-forward: the metrics engine classification for succeeded ones; rollback or change by trigger for the rest) and result (the final status)',
      labelNames: ['app', 'env', 'kind', 'result'] as const,
      registers,
    });
    const buildDuration = new Histogram({
      name: 'gantry_build_duration_seconds',
      help: 'Build time, started to finished, of finished builds (cancelled and superseded ones left out), by app and result',
      labelNames: ['app', 'result'] as const,
      buckets: BUILD_DURATION_BUCKETS,
      registers,
    });
    const buildQueue = new Histogram({
      name: 'gantry_build_queue_seconds',
      help: 'Build queue time, queued to started, of the builds counted in gantry_build_duration_seconds',
      labelNames: ['app'] as const,
      buckets: BUILD_QUEUE_BUCKETS,
      registers,
    });
    const rollbackDuration = new Histogram({
      name: 'gantry_rollback_duration_seconds',
      help: 'Rollback time, requested to finished, of finished rollbacks (trigger rollback, or classified as a rollback by the metrics engine), by result (the final status)',
      labelNames: ['app', 'env', 'result'] as const,
      buckets: ROLLBACK_DURATION_BUCKETS,
      registers,
    });
    const delivered = new Counter({
      name: 'gantry_commits_delivered_total',
      help: 'Commits that reached the environment for the first time (the commits lead time is measured on), by app and environment',
      labelNames: ['app', 'env'] as const,
      registers,
    });
    const lastDays = `over the last ${LEAD_TIME_WINDOW_DAYS} days`;
    const leadGauges = LEAD_TIME_GAUGES.map(
      ([name, key]) =>
        [
          key,
          new Gauge({
            name: `gantry_lead_time_${name}_seconds`,
            help: `Lead time for changes ${lastDays}, ${name}: commit to its first successful deployment of the environment, exact (interpolated) from the metrics engine; absent when no commit was delivered in the window`,
            labelNames: ['app', 'env'] as const,
            registers,
          }),
        ] as const,
    );
    const leadCommits = new Gauge({
      name: 'gantry_lead_time_window_commits',
      help: `Commits delivered ${lastDays} with a lead time (clock-skewed ones left out): what the lead-time gauges are computed from`,
      labelNames: ['app', 'env'] as const,
      registers,
    });
    const incidentsOpen = new Gauge({
      name: 'gantry_incidents_open',
      help: 'Incidents opened and not resolved yet',
      labelNames: ['app', 'env'] as const,
      registers,
    });
    const toggleEvaluations = new Counter({
      name: 'gantry_toggle_evaluations_total',
      help: 'Toggle evaluations reported by SDKs (Unleash client metrics), by result (yes: enabled, no: disabled)',
      labelNames: ['app', 'env', 'toggle', 'result'] as const,
      registers,
    });
    const buildSlo = new Gauge({
      name: 'gantry_build_slo_seconds',
      help: "The build time SLO of each app: its newest build's (gantry.yaml build.timeout), or the default",
      labelNames: ['app'] as const,
      registers,
    });
    new Gauge({
      name: 'gantry_rollback_slo_seconds',
      help: 'The rollback time SLO the delivery metrics measure against',
      registers,
    }).set(DEFAULT_ROLLBACK_SLO_MS / 1000);

    const apps = new Map((await this.d.apps.list()).map((a) => [a.id, a]));
    const name = (appId: string) => apps.get(appId)?.name;
    const db = this.d.db;

    // Deployments that did not succeed are counted in SQL; succeeded ones come from the
    // classification below (the same ledger rows the report reads).
    const counts = await db
      .selectFrom('deployments')
      .select(['app_id', 'env', 'status', 'trigger', (eb) => eb.fn.countAll().as('n')])
      .where('status', 'in', FINISHED)
      .groupBy(['app_id', 'env', 'status', 'trigger'])
      .execute();
    const scopes = new Map<string, { app: AppRecord; env: string }>();
    for (const r of counts) {
      const app = apps.get(r.app_id);
      if (!app) continue;
      if (r.status === 'succeeded') {
        scopes.set(key(app.name, r.env), { app, env: r.env });
        continue;
      }
      const kind: DeploymentKind = isRollbackTrigger(r.trigger) ? 'rollback' : 'change';
      deployments.inc({ app: app.name, env: r.env, kind, result: r.status }, Number(r.n));
    }

    const from = now - LEAD_TIME_WINDOW_DAYS * DAY_MS;
    for (const k of [...scopes.keys()].sort()) {
      const { app, env } = scopes.get(k)!;
      const labels = { app: app.name, env };
      // No builds are needed here (buildsFrom = to): they are read for every app at once below.
      const { history, samples } = await this.d.metrics.history(app, env, {
        samplesFrom: from,
        samplesTo: now,
        buildsFrom: new Date(now).toISOString(),
      });
      const kinds = new Map<DeploymentKind, number>();
      let commits = 0;
      for (const d of history.deployments) {
        kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 1);
        commits += d.newCommits;
        // Rollbacks asked for by trigger are observed below, whatever their outcome.
        if (d.kind === 'rollback' && !isRollbackTrigger(d.trigger))
          rollbackDuration.observe({ ...labels, result: 'succeeded' }, seconds(d.finishedAt - d.requestedAt));
      }
      for (const [kind, n] of kinds) deployments.inc({ ...labels, kind, result: 'succeeded' }, n);
      delivered.inc(labels, commits);

      // As the report: commits delivered in [from, now), clock-skewed ones (negative) left out.
      const leads: number[] = [];
      for (let i = 0; i < samples.at.length; i++) {
        const at = samples.at[i]!;
        const ms = samples.lead[i]!;
        if (at >= from && at < now && ms >= 0) leads.push(ms / 1000);
      }
      const s = summarize(leads);
      for (const [key, gauge] of leadGauges) if (s[key] !== null) gauge.set(labels, s[key]);
      leadCommits.set(labels, s.n);
      incidentsOpen.set(labels, 0);
    }

    const rollbacks = await db
      .selectFrom('deployments')
      .select(['app_id', 'env', 'status', 'requested_at', 'finished_at'])
      .where('trigger', 'in', ['rollback', 'auto-rollback'])
      .where('status', 'in', FINISHED)
      .where('finished_at', 'is not', null)
      .execute();
    for (const r of rollbacks) {
      const app = name(r.app_id);
      if (!app) continue;
      rollbackDuration.observe(
        { app, env: r.env, result: r.status },
        seconds(Date.parse(r.finished_at!) - Date.parse(r.requested_at)),
      );
    }

    const builds = await db
      .selectFrom('builds')
      .select(['app_id', 'status', 'queued_at', 'started_at', 'finished_at', 'slo_ms'])
      .where('status', 'in', COUNTED_BUILDS)
      .where('started_at', 'is not', null)
      .where('finished_at', 'is not', null)
      .execute();
    const newest = new Map<string, { at: string; sloMs: number }>();
    for (const b of builds) {
      const app = name(b.app_id);
      if (!app) continue;
      const last = newest.get(app);
      if (!last || b.finished_at! > last.at) newest.set(app, { at: b.finished_at!, sloMs: Number(b.slo_ms) });
      const started = Date.parse(b.started_at!);
      buildDuration.observe({ app, result: b.status }, seconds(Date.parse(b.finished_at!) - started));
      buildQueue.observe({ app }, seconds(started - Date.parse(b.queued_at)));
    }
    for (const app of apps.values())
      buildSlo.set({ app: app.name }, (newest.get(app.name)?.sloMs ?? DEFAULT_BUILD_SLO_MS) / 1000);

    const incidents = await db
      .selectFrom('incidents')
      .select((eb) => [
        'app_id',
        'env',
        eb.fn
          .sum<number | string>(eb.case().when('resolved_at', 'is', null).then(1).else(0).end())
          .as('open'),
      ])
      .groupBy(['app_id', 'env'])
      .execute();
    for (const r of incidents) {
      const app = name(r.app_id);
      if (app) incidentsOpen.set({ app, env: r.env }, Number(r.open));
    }

    const usage = await db
      .selectFrom('toggle_usage')
      .select((eb) => [
        'app_id',
        'env',
        'toggle',
        eb.fn.sum<number | string>('yes_count').as('yes'),
        eb.fn.sum<number | string>('no_count').as('no'),
      ])
      .groupBy(['app_id', 'env', 'toggle'])
      .execute();
    for (const r of usage) {
      const app = name(r.app_id);
      if (!app) continue;
      toggleEvaluations.inc({ app, env: r.env, toggle: r.toggle, result: 'yes' }, Number(r.yes));
      toggleEvaluations.inc({ app, env: r.env, toggle: r.toggle, result: 'no' }, Number(r.no));
    }

    // The one count of releases (docs/metrics.md, "Release frequency"); summed over kind it is the
    // report's releaseFrequency.releases over all time.
    const releases = new Counter({
      name: 'gantry_releases_total',
      help: 'Releases: the times a change reached users without a deployment, by app, environment and kind (release: a release applied, counted once however many toggles it changed; toggle: a toggle switched on outside a release)',
      labelNames: ['app', 'env', 'kind'] as const,
      registers,
    });
    const store = new SqlMetricsStore(db);
    for (const r of await store.releasesAppliedCounts()) {
      const app = name(r.appId);
      if (app) releases.inc({ app, env: r.env, kind: 'release' }, r.count);
    }
    for (const [key, n] of await this.toggleSwitches.counts(store, now)) {
      const [appId, env] = key.split('\u0000') as [string, string];
      const app = name(appId);
      if (app) releases.inc({ app, env, kind: 'toggle' }, n);
    }
    return registry;
  }
}

/** What the scrape route uses; the composition root (gantry.ts) passes these among all its services. */
export interface PrometheusRoutesDeps {
  database: Pick<Database, 'db'>;
  apps: PrometheusDeps['apps'];
  metrics: PrometheusDeps['metrics'];
}

export function prometheusRoutes(r: TypedApp, g: PrometheusRoutesDeps): void {
  const exporter = new PrometheusExporter({ db: g.database.db, apps: g.apps, metrics: g.metrics });
  r.get(
    '/metrics',
    {
      config: { access: 'metrics:read' },
      schema: {
        tags: ['metrics'],
        summary:
          'Prometheus scrape endpoint: deployments by kind and result, build and rollback time histograms, commits delivered, lead-time gauges over the last 28 days, open incidents, toggle evaluations, releases, SLOs (docs/metrics.md)',
      },
    },
    async (_req, reply) => {
      const registry = await exporter.collect();
      const body = await registry.metrics();
      return reply.type(registry.contentType).send(body);
    },
  );
}
