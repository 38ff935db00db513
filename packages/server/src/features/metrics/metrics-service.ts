import { InvalidInput } from '../../errors.js';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../apps/app-store.js';
import type { IncidentService } from '../incidents/incident-service.js';
import {
  type Bucket,
  combineHistories,
  type History,
  historyFrom,
  leadTimeStats,
  type MetricsInput,
  type MetricsReport,
  metricsReport,
  previousWindow,
  scopedIncidents,
  toWindow,
} from './engine/index.js';
import type { MetricsLedger } from './metrics-ledger.js';
import type { SqlMetricsStore } from './sql-metrics-store.js';

export const DEFAULT_WINDOW_DAYS = 28;
const DAY_MS = 86_400_000;
const MAX_WINDOW_DAYS = 3 * 366;

export interface MetricsQuery {
  /** Absent: every app together, with pooled ratios. */
  app?: string;
  env?: string;
  from?: string;
  to?: string;
  bucket?: Bucket;
  rollbackSloMs?: number;
  buildSloMs?: number;
  incidentWindowMs?: number;
}

export interface MetricsDeps {
  store: SqlMetricsStore;
  ledger: MetricsLedger;
  apps: AppService;
  incidents: IncidentService;
  /** The environments an app has (declared in gantry.yaml or deployed to). */
  environments(app: AppRecord): Promise<string[]>;
  now?: () => Date;
}

function instant(name: string, value: string): number {
  const t = Date.parse(value);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(value))
    throw new InvalidInput(
      `${name} must be an ISO-8601 date or time (e.g. 2026-01-01 or 2026-01-01T00:00:00Z), got "${value}"`,
    );
  return t;
}

/** The metrics of the server's own history, read from the ledger and the event tables. */
export class MetricsService {
  constructor(private readonly d: MetricsDeps) {}

  /** Resolves defaults and checks the query; throws InvalidInput naming the field. */
  async resolve(q: MetricsQuery) {
    const env = q.env ?? 'production';
    const envsOf = async (app: AppRecord) => [
      ...new Set([...(await this.d.environments(app)), ...(await this.d.store.deployedEnvs(app.id))]),
    ];
    let apps: AppRecord[];
    if (q.app !== undefined) {
      const app = await this.d.apps.getByName(q.app);
      const envs = await envsOf(app);
      if (!envs.includes(env))
        throw new InvalidInput(
          `app "${app.name}" has no environment "${env}"; its environments: ${envs.join(', ') || '(none yet)'}`,
        );
      apps = [app];
    } else {
      // Every app that has the environment, pooled.
      const all = await this.d.apps.list();
      const having = await Promise.all(all.map(async (a) => ((await envsOf(a)).includes(env) ? a : null)));
      apps = having.filter((a): a is AppRecord => a !== null);
      if (!apps.length) throw new InvalidInput(`no app has an environment "${env}"`);
    }
    const to = q.to === undefined ? (this.d.now?.() ?? new Date()).getTime() : instant('to', q.to);
    const from = q.from === undefined ? to - DEFAULT_WINDOW_DAYS * DAY_MS : instant('from', q.from);
    if (from >= to)
      throw new InvalidInput(
        `the window is empty: from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()})`,
      );
    if (to - from > MAX_WINDOW_DAYS * DAY_MS)
      throw new InvalidInput(`the window is longer than ${MAX_WINDOW_DAYS} days; ask for a shorter one`);
    return {
      apps,
      env,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      bucket: q.bucket ?? 'week',
    };
  }

  /**
   * The classified history of an app's environment and its lead-time samples finished in
   * [samplesFrom, samplesTo) (epoch ms): what the report, /metrics and charts are computed from.
   */
  async history(
    app: AppRecord,
    env: string,
    opts: { samplesFrom: number; samplesTo: number; buildsFrom: string; incidentWindowMs?: number },
  ): Promise<{ history: History; samples: { at: Float64Array; lead: Float64Array } }> {
    await this.d.ledger.catchUp(app.id, env);
    const [{ deployments, samples }, incidents, rollbackAttempts, builds, releases, togglesOn] =
      await Promise.all([
        this.d.store.factDeployments(app.id, env, opts.samplesFrom, opts.samplesTo),
        this.d.incidents.listForMetrics({ app: app.name, env }),
        this.d.store.rollbackAttempts(app.id, env),
        this.d.store.builds(app.id, opts.buildsFrom, new Date(opts.samplesTo).toISOString()),
        this.d.store.releasesApplied(app.id, env),
        this.d.store.togglesSwitchedOn(app.id, env),
      ]);
    const history = historyFrom(
      { app: app.name, env, incidentWindowMs: opts.incidentWindowMs },
      {
        deployments,
        incidents: scopedIncidents(incidents, app.name, env),
        rollbackAttempts,
        builds,
        releases,
        togglesOn,
      },
    );
    return { history, samples };
  }

  async report(q: MetricsQuery): Promise<MetricsReport> {
    const { apps, env, from, to, bucket } = await this.resolve(q);
    const prev = previousWindow(from, to);
    const parts = [];
    for (const app of apps)
      parts.push(
        await this.history(app, env, {
          samplesFrom: Date.parse(prev.from),
          samplesTo: Date.parse(to),
          buildsFrom: prev.from,
          incidentWindowMs: q.incidentWindowMs,
        }),
      );
    const history = parts.length === 1 ? parts[0]!.history : combineHistories(parts.map((p) => p.history));
    const samples =
      parts.length === 1
        ? parts[0]!.samples
        : {
            at: Float64Array.from(parts.flatMap((p) => [...p.samples.at])),
            lead: Float64Array.from(parts.flatMap((p) => [...p.samples.lead])),
          };
    return metricsReport(
      history,
      {
        current: leadTimeStats(samples.at, samples.lead, toWindow(from, to), bucket),
        previous: leadTimeStats(samples.at, samples.lead, toWindow(prev.from, prev.to), bucket),
      },
      { from, to, bucket, rollbackSloMs: q.rollbackSloMs, buildSloMs: q.buildSloMs },
    );
  }

  /** The server's history in the events-file format of docs/metrics.md (`gantry events export`). */
  async exportEvents(filter: { app?: string } = {}): Promise<MetricsInput> {
    const apps = filter.app ? [await this.d.apps.getByName(filter.app)] : await this.d.apps.list();
    const out: Required<MetricsInput> = {
      commits: [],
      deployments: [],
      incidents: [],
      builds: [],
      releases: [],
      toggleChanges: [],
    };
    const seen = new Set<string>();
    for (const app of apps) {
      const part = await this.d.store.exportApp(app.id, app.name);
      // Apps built from one repository share commits; the file lists each commit once.
      for (const c of part.commits) if (!seen.has(c.sha) && seen.add(c.sha)) out.commits.push(c);
      out.deployments.push(...part.deployments);
      out.builds.push(...part.builds);
      out.releases.push(...part.releases);
      out.toggleChanges.push(...part.toggleChanges);
      out.incidents.push(...(await this.d.incidents.listForMetrics({ app: app.name })));
    }
    return out;
  }
}
