import { readFile, writeFile } from 'node:fs/promises';
import { humanDaysPerWeek, humanDuration, humanRate, parseDuration } from '@gantry/contracts';
import type { MetricsInput, MetricsReport } from '@gantry/server';
import { CliError, client, pickApp, qs } from '../context.js';
import { plural, printJson, table } from '../output.js';
import { loadServer } from '../server-module.js';

const DAY_MS = 86_400_000;

export interface MetricsOptions {
  app?: string;
  allApps?: boolean;
  env?: string;
  from?: string;
  to?: string;
  days?: string;
  bucket?: string;
  events?: string;
  rollbackSlo?: string;
  buildSlo?: string;
  incidentWindow?: string;
  json?: boolean;
}

function durationOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch (e) {
    throw new CliError(`--${name}: ${(e as Error).message}`);
  }
}

function timeOption(name: string, value: string): number {
  const t = Date.parse(value);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(value))
    throw new CliError(`--${name} must be an ISO-8601 date or time (e.g. 2026-01-01), got "${value}"`);
  return t;
}

function bucketOption(value: string | undefined): 'day' | 'week' | 'month' {
  const b = value ?? 'week';
  if (b !== 'day' && b !== 'week' && b !== 'month')
    throw new CliError(`--bucket must be day, week or month, got "${b}"`);
  return b;
}

/** from/to from the options; `defaultTo` when --to is not given. */
function windowOf(opts: MetricsOptions, defaultTo: number): { from?: string; to?: string } {
  const days = opts.days === undefined ? undefined : Number(opts.days);
  if (days !== undefined && !(Number.isInteger(days) && days > 0))
    throw new CliError(`--days must be a whole number of days, got "${opts.days}"`);
  const to = opts.to ? timeOption('to', opts.to) : days !== undefined || opts.events ? defaultTo : undefined;
  const from = opts.from
    ? timeOption('from', opts.from)
    : days !== undefined && to !== undefined
      ? to - days * DAY_MS
      : undefined;
  return {
    ...(from !== undefined && { from: new Date(from).toISOString() }),
    ...(to !== undefined && { to: new Date(to).toISOString() }),
  };
}

/** The events file, read and checked; bad records end the command with the list of problems. */
export async function readEventsFile(file: string) {
  const { parseEventsFile, EventsFileError } = await loadServer();
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  });
  try {
    return parseEventsFile(text, file);
  } catch (e) {
    if (e instanceof EventsFileError) throw new CliError(e.message, 2);
    throw e;
  }
}

/** The report from the server, or computed here from an events file (`--events`). */
export async function loadReport(opts: MetricsOptions): Promise<{ report: MetricsReport; notes: string[] }> {
  const bucket = bucketOption(opts.bucket);
  const slos = {
    rollbackSloMs: durationOption('rollback-slo', opts.rollbackSlo),
    buildSloMs: durationOption('build-slo', opts.buildSlo),
    incidentWindowMs: durationOption('incident-window', opts.incidentWindow),
  };
  if (!opts.events) {
    const api = await client();
    if (opts.allApps && opts.app) throw new CliError('--all-apps and --app exclude each other');
    const app = opts.allApps ? undefined : await pickApp(api, opts.app);
    const w = windowOf(opts, Date.now());
    const report = await api.get<MetricsReport>(
      `/api/metrics${qs({ app, env: opts.env, ...w, bucket, ...slos })}`,
    );
    return { report, notes: [] };
  }
  const { input, notes } = await readEventsFile(opts.events);
  if (opts.allApps && opts.app) throw new CliError('--all-apps and --app exclude each other');
  const app = opts.allApps ? undefined : (opts.app ?? onlyApp(input, opts.events));
  const env = opts.env ?? 'production';
  const envs = [
    ...new Set(input.deployments.filter((d) => app === undefined || d.app === app).map((d) => d.env)),
  ];
  if (!envs.includes(env))
    throw new CliError(
      `${opts.events} has no deployments${app ? ` of ${app}` : ''} to "${env}"; it has ${envs.length ? envs.join(', ') : 'none of that app'} (pass --env)`,
    );
  // A backfill is judged where its history ends, not today: the window ends after its last deployment.
  const last = Math.max(...input.deployments.map((d) => Date.parse(d.finishedAt ?? d.requestedAt)));
  const w = windowOf(opts, Math.ceil((last + 1) / DAY_MS) * DAY_MS);
  const to = w.to!;
  const from = w.from ?? new Date(Date.parse(to) - 28 * DAY_MS).toISOString();
  if (Date.parse(from) >= Date.parse(to))
    throw new CliError(`the window is empty: --from (${from}) must be before --to (${to})`);
  const { pooledReportFromEvents, reportFromEvents } = await loadServer();
  const scope = { env, from, to, bucket, ...slos };
  const report =
    app === undefined
      ? await pooledReportFromEvents(input, scope)
      : await reportFromEvents(input, { ...scope, app });
  const lines: string[] = [];
  if (notes.incidentsWithUnknownDeployment.length)
    lines.push(
      `${plural(notes.incidentsWithUnknownDeployment.length, 'incident')} linked to a deployment the file does not have, counted as unlinked: ${notes.incidentsWithUnknownDeployment.slice(0, 5).join(', ')}`,
    );
  if (notes.unknownRemediates.length)
    lines.push(
      `${plural(notes.unknownRemediates.length, 'deployment')} ${notes.unknownRemediates.length === 1 ? 'says it remediates' : 'say they remediate'} a deployment the file does not have; the link is ignored: ${notes.unknownRemediates.slice(0, 5).join(', ')}`,
    );
  return { report, notes: lines };
}

function onlyApp(input: MetricsInput, file: string): string {
  const apps = [...new Set(input.deployments.map((d) => d.app))];
  if (apps.length === 1) return apps[0]!;
  if (apps.length === 0) throw new CliError(`${file} has no deployments, so there is nothing to measure`);
  throw new CliError(`${file} holds several apps (${apps.join(', ')}): pass --app <name>`);
}

// ── formatting ─────────────────────────────────────────────────────────────────────────────────

const human = humanDuration;
const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`;
/** The rate convention of the report too: per day from one a day, else per week. */
const perDay = humanRate;
const day = (iso: string) => iso.slice(0, 10);

function trendCell(
  t: MetricsReport['trend'][keyof MetricsReport['trend']],
  fmt: (x: number | null) => string,
) {
  if (t.direction === null) return t.previous === null ? 'no previous data' : '';
  const arrow = t.change! > 0 ? '↑' : t.change! < 0 ? '↓' : '→';
  return `${arrow} ${t.direction} (was ${fmt(t.previous)})`;
}

export function printReport(r: MetricsReport, notes: string[] = [], out = process.stdout): void {
  const days = Math.round((Date.parse(r.to) - Date.parse(r.from)) / DAY_MS);
  out.write(
    `${r.app} / ${r.env}: ${day(r.from)} → ${day(r.to)} (${plural(days, 'day')}, per ${r.bucket}); trend against ${day(r.previous.from)} → ${day(r.previous.to)}\n\n`,
  );
  const f = r.deploymentFrequency;
  const lt = r.leadTime;
  const cfr = r.changeFailureRate;
  const rec = r.recoveryTime;
  const rw = r.reworkRate;
  const rb = r.rollbackTime;
  const bt = r.buildTime;
  const rows = [
    {
      // The band's basis first (docs/metrics.md, "Deployment frequency"), the raw rate beside it.
      metric: 'Deployment frequency',
      value: deploymentDaysText(f.deploymentDays),
      band: r.bands.deploymentFrequency ?? '—',
      trend: trendCell(r.trend.deploymentDaysPerWeek, humanDaysPerWeek),
    },
    {
      metric: 'Deployments (raw rate)',
      value: `${perDay(f.perDay)} (${plural(f.deployments, 'deployment')}, ${f.rollbacks} of them ${f.rollbacks === 1 ? 'a rollback' : 'rollbacks'})`,
      band: '',
      trend: trendCell(r.trend.deploymentsPerDay, perDay),
    },
    {
      metric: 'Lead time for changes',
      value: `${human(lt.median)} median, p90 ${human(lt.p90)} (${plural(lt.n, 'commit')})`,
      band: r.bands.leadTime ?? '—',
      trend: trendCell(r.trend.leadTimeMedianMs, human),
    },
    {
      metric: 'Change failure rate',
      value: `${pct(cfr.rate)} (${cfr.failed} of ${cfr.deployments})`,
      band: r.bands.changeFailureRate ?? '—',
      trend: trendCell(r.trend.changeFailureRate, pct),
    },
    {
      metric: 'Failed deployment recovery',
      value: `${human(rec.median)} median, p90 ${human(rec.p90)} (${rec.n}${rec.open.length ? `, ${rec.open.length} open` : ''})`,
      band: r.bands.recoveryTime ?? '—',
      trend: trendCell(r.trend.recoveryMedianMs, human),
    },
    {
      metric: 'Rework rate',
      value: reworkText(rw),
      band: '',
      trend: trendCell(r.trend.reworkRate, pct),
    },
    {
      metric: 'Rollback time',
      value: `p50 ${human(rb.median)}, p95 ${human(rb.p95)}, max ${human(rb.max)}; ${pct(rb.withinSloShare)} within ${human(rb.sloMs)} (${plural(rb.n + rb.failed, 'rollback')}${rb.failed ? `: ${rb.n} done, ${rb.failed} failed` : ''})`,
      band: '',
      trend: trendCell(r.trend.rollbackP95Ms, human),
    },
    {
      metric: 'Build time',
      value: `p50 ${human(bt.median)}, p95 ${human(bt.p95)}; ${pct(bt.withinSloShare)} within ${human(bt.sloMs)} (${plural(bt.n, 'build')}; queue p50 ${human(bt.queue.median)})`,
      band: '',
      trend: trendCell(r.trend.buildP95Ms, human),
    },
    {
      metric: 'Time to restore (incidents)',
      value: `${human(r.timeToRestore.median)} median, p90 ${human(r.timeToRestore.p90)} (${r.timeToRestore.n} resolved${r.timeToRestore.open.length ? `, ${r.timeToRestore.open.length} open` : ''})`,
      band: '',
      trend: trendCell(r.trend.timeToRestoreMedianMs, human),
    },
    {
      metric: 'Releases (apart)',
      value: releasesText(r.releaseFrequency),
      band: '',
      trend: trendCell(r.trend.releases, (x) => String(x ?? '—')),
    },
  ];
  table(rows, ['metric', 'value', 'band', 'trend'], out);
  out.write(`\nper ${r.bucket}:\n`);
  table(
    r.series.map((p) => ({
      start: day(p.start),
      deploys: String(p.deployments),
      rollbacks: String(p.rollbacks),
      failed: String(p.failed),
      cfr: pct(p.changeFailureRate),
      'lead time': human(p.leadTimeMedianMs),
      recovery: human(p.recoveryMedianMs),
      releases: String(p.releases),
      'build p95': human(p.buildP95Ms),
    })),
    ['start', 'deploys', 'rollbacks', 'failed', 'cfr', 'lead time', 'recovery', 'releases', 'build p95'],
    out,
  );
  const s = r.skipped;
  const skipped = [
    s.unknownShas &&
      `${plural(s.unknownShas, 'deployed SHA')} missing from the commit history (no lead time)`,
    s.clockSkew &&
      `${plural(s.clockSkew, 'commit')} committed after their deployment finished (clock skew; no lead time)`,
    s.incidentsOutOfOrder &&
      `${plural(s.incidentsOutOfOrder, 'incident')} resolved before ${s.incidentsOutOfOrder === 1 ? 'it' : 'they'} opened (left out of time to restore)`,
  ].filter(Boolean) as string[];
  for (const line of [...skipped, ...notes]) out.write(`skipped: ${line}\n`);
  out.write(`\nBands: ${r.bands.source}. Definitions: docs/metrics.md.\n`);
}

export async function metricsCommand(opts: MetricsOptions) {
  const { report, notes } = await loadReport(opts);
  if (opts.json) return printJson(notes.length ? { ...report, notes } : report);
  printReport(report, notes);
}

export async function eventsExport(opts: { app?: string; output?: string }) {
  const api = await client();
  const data = await api.get<MetricsInput>(`/api/metrics/events${qs({ app: opts.app })}`);
  const text = `${JSON.stringify(data, null, 2)}\n`;
  if (!opts.output) return void process.stdout.write(text);
  await writeFile(opts.output, text);
  process.stderr.write(
    `wrote ${opts.output}: ${plural(data.commits.length, 'commit')}, ${plural(data.deployments.length, 'deployment')}, ${plural(data.incidents.length, 'incident')}, ${plural(data.builds.length, 'build')}\n` +
      `compute metrics from it with \`gantry metrics --events ${opts.output}\`\n`,
  );
}

export async function reportCommand(opts: MetricsOptions & { html: string }) {
  const { report, notes } = await loadReport(opts);
  const { renderReportHtml } = await loadServer();
  await writeFile(opts.html, renderReportHtml(report, { generatedAt: new Date().toISOString() }));
  process.stdout.write(
    `wrote ${opts.html}: ${report.app}/${report.env}, ${day(report.from)} → ${day(report.to)}, ${plural(report.deploymentFrequency.deployments, 'deployment')}\n`,
  );
  for (const n of notes) process.stdout.write(`skipped: ${n}\n`);
}

/** The one count of releases (docs/metrics.md, "Release frequency") and what it is made of. */
function releasesText(rf: { releases: number; releasesApplied: number; togglesOn: number }): string {
  return `${rf.releases}: ${plural(rf.releasesApplied, 'release')} applied, ${plural(rf.togglesOn, 'toggle')} switched on outside a release`;
}

/** What the deployment-frequency band is read from: deployment days of new changes per week. */
function deploymentDaysText(d: MetricsReport['deploymentFrequency']['deploymentDays']): string {
  if (d.medianPerWeek === null) return '— (the window is shorter than a week)';
  return `${humanDaysPerWeek(d.medianPerWeek)} with a new change (median of ${plural(d.weeks.length, 'week')}; rollbacks not counted)`;
}

/**
 * Rework counts the rollbacks that remediate a failed deployment; a roll-forward (back to newer code
 * after a rollback) is a rollback in deployment frequency but remediates nothing, so it is named apart.
 */
function reworkText(rw: MetricsReport['reworkRate']): string {
  const forward = rw.rollForwards
    ? `; ${plural(rw.rollForwards, 'roll-forward')} not counted, ${rw.rollForwards === 1 ? 'it remediates' : 'they remediate'} nothing`
    : '';
  return `${pct(rw.rate)} (${rw.remediating} of ${rw.deployments}: ${plural(rw.byKind.rollback, 'rollback')}, ${plural(rw.byKind.revert, 'revert')}, ${plural(rw.byKind['fix-forward'], 'fix-forward')}${forward})`;
}
