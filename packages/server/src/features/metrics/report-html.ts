/**
 * `gantry report --html`: one self-contained HTML page (inline CSS, inline SVG drawn here, no script,
 * no font, no image, no network) for one or more metrics reports. Pure: the same reports and options
 * give the same bytes. Every string that comes from the data is escaped.
 */
import { humanDaysPerWeek, humanRate } from '@gantry/contracts';
import type { Band, Headline, MetricsReport, Trend } from './engine/index.js';
import {
  buildTimeChart,
  changeFailureChart,
  deploymentsChart,
  figure,
  leadTimeChart,
  recoveryChart,
  rollbackChart,
} from './report-charts.js';
import {
  esc,
  formatDuration,
  formatNumber,
  formatPercent,
  formatTime,
  plural,
  trimZero,
} from './report-format.js';

export {
  durationTicks,
  escapeHtml,
  formatDuration,
  formatNumber,
  formatPercent,
  formatTime,
  linearScale,
  niceTicks,
} from './report-format.js';

export interface ReportHtmlOptions {
  /** The page title; defaults to "Delivery metrics — <app> / <env>, …". */
  title?: string;
  /** Shown in the header as given (ISO time recommended). Left out when absent, so the output stays pure. */
  generatedAt?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Headline table

type BandCell = Band | null | 'n/a';

interface Row {
  key: keyof Headline;
  name: string;
  value: string;
  detail: string;
  band: BandCell;
}

function formatHeadline(key: keyof Headline, v: number | null): string {
  if (v === null) return '—';
  switch (key) {
    case 'deploymentsPerDay':
      // One convention with the CLI: per day from one a day, else per week.
      return humanRate(v);
    case 'deploymentDaysPerWeek':
      return humanDaysPerWeek(v);
    case 'changeFailureRate':
    case 'reworkRate':
      return formatPercent(v);
    case 'releases':
      return formatNumber(v);
    default:
      return formatDuration(v);
  }
}

function formatChange(key: keyof Headline, change: number): string {
  const sign = change > 0 ? '+' : change < 0 ? '−' : '±';
  const abs = Math.abs(change);
  switch (key) {
    case 'deploymentsPerDay':
      return `${sign}${humanRate(abs)}`;
    case 'deploymentDaysPerWeek':
      return `${sign}${humanDaysPerWeek(abs)}`;
    case 'changeFailureRate':
    case 'reworkRate':
      return `${sign}${trimZero((abs * 100).toFixed(1))} pp`;
    case 'releases':
      return `${sign}${formatNumber(abs)}`;
    default:
      return `${sign}${formatDuration(abs)}`;
  }
}

/** "↓ better (−2 h; was 5 h)", "→ same", or "no comparison" when either window has no value. */
export function trendText(key: keyof Headline, t: Trend): string {
  if (t.direction === null || t.change === null) {
    return `no comparison (previous window: ${t.previous === null ? 'no data' : formatHeadline(key, t.previous)})`;
  }
  const arrow = t.change > 0 ? '↑' : t.change < 0 ? '↓' : '→';
  if (t.direction === 'same') return `${arrow} same (was ${formatHeadline(key, t.previous)})`;
  return `${arrow} ${t.direction} (${formatChange(key, t.change)}; was ${formatHeadline(key, t.previous)})`;
}

function headlineRows(r: MetricsReport): Row[] {
  const df = r.deploymentFrequency;
  const lt = r.leadTime;
  const cfr = r.changeFailureRate;
  const rec = r.recoveryTime;
  const rw = r.reworkRate;
  const rb = r.rollbackTime;
  const bt = r.buildTime;
  const rf = r.releaseFrequency;
  return [
    {
      // The band's basis (docs/metrics.md, "Deployment frequency"), with the raw rate beside it.
      key: 'deploymentDaysPerWeek',
      name: 'Deployment frequency (deployment days)',
      value: formatHeadline('deploymentDaysPerWeek', df.deploymentDays.medianPerWeek),
      detail:
        df.deploymentDays.medianPerWeek === null
          ? 'the window is shorter than a week'
          : `days with a deployment of a new change, median of ${plural(df.deploymentDays.weeks.length, 'week')}; rollbacks not counted`,
      band: r.bands.deploymentFrequency,
    },
    {
      key: 'deploymentsPerDay',
      name: 'Deployments (raw rate)',
      value: formatHeadline('deploymentsPerDay', df.perDay),
      detail: `${plural(df.deployments, 'deployment')}, ${df.rollbacks} of them ${df.rollbacks === 1 ? 'a rollback' : 'rollbacks'}; the band is read from deployment days`,
      band: 'n/a',
    },
    {
      key: 'leadTimeMedianMs',
      name: 'Lead time for changes (median)',
      value: formatDuration(lt.median),
      detail: `p90 ${formatDuration(lt.p90)}, ${plural(lt.n, 'commit')}`,
      band: r.bands.leadTime,
    },
    {
      key: 'changeFailureRate',
      name: 'Change failure rate',
      value: formatPercent(cfr.rate),
      detail: `${cfr.failed} of ${plural(cfr.deployments, 'deployment')} failed`,
      band: r.bands.changeFailureRate,
    },
    {
      key: 'recoveryMedianMs',
      name: 'Failed deployment recovery time (median)',
      value: formatDuration(rec.median),
      detail: `p90 ${formatDuration(rec.p90)}, ${rec.n} recovered, ${rec.open.length} open`,
      band: r.bands.recoveryTime,
    },
    {
      key: 'timeToRestoreMedianMs',
      name: 'Time to restore (incidents, median)',
      value: formatDuration(r.timeToRestore.median),
      detail: `incident opened → resolved; p90 ${formatDuration(r.timeToRestore.p90)}, ${r.timeToRestore.n} resolved, ${r.timeToRestore.open.length} open`,
      band: 'n/a',
    },
    {
      key: 'reworkRate',
      name: 'Rework rate',
      value: formatPercent(rw.rate),
      detail: `${rw.remediating} of ${plural(rw.deployments, 'deployment')} remediating: ${plural(
        rw.byKind.rollback,
        'rollback',
      )}, ${plural(rw.byKind.revert, 'revert')}, ${plural(rw.byKind['fix-forward'], 'fix-forward')}${
        rw.rollForwards
          ? `; ${plural(rw.rollForwards, 'roll-forward')} (a rollback to newer code) not counted: ${rw.rollForwards === 1 ? 'it remediates' : 'they remediate'} nothing`
          : ''
      }`,
      band: 'n/a',
    },
    {
      key: 'rollbackP95Ms',
      name: 'Rollback time (p95)',
      value: formatDuration(rb.p95),
      detail: `SLO ${formatDuration(rb.sloMs)}: ${rb.withinSlo} of ${plural(rb.points.length, 'rollback')} within (${formatPercent(
        rb.withinSloShare,
      )}), ${rb.failed} failed; p50 ${formatDuration(rb.median)}, max ${formatDuration(rb.max)}`,
      band: 'n/a',
    },
    {
      key: 'buildP95Ms',
      name: 'Build time (p95)',
      value: formatDuration(bt.p95),
      detail: `SLO ${formatDuration(bt.sloMs)}: ${bt.withinSlo} of ${plural(bt.n, 'build')} within (${formatPercent(
        bt.withinSloShare,
      )}); p50 ${formatDuration(bt.median)}; queue p50 ${formatDuration(bt.queue.median)}`,
      band: 'n/a',
    },
    {
      key: 'releases',
      name: 'Releases',
      value: formatNumber(rf.releases),
      detail: `${plural(rf.releasesApplied, 'release')} applied and ${plural(rf.togglesOn, 'toggle')} switched on outside a release; counted apart from deployments`,
      band: 'n/a',
    },
  ];
}

function bandCell(b: BandCell): string {
  if (b === 'n/a')
    return '<td class="band-cell" data-band="n/a"><span class="muted">no DORA band</span></td>';
  if (b === null) return '<td class="band-cell" data-band="none"><span class="muted">— (no data)</span></td>';
  return `<td class="band-cell" data-band="${esc(b)}"><span class="band band-${esc(b)}">${esc(b)}</span></td>`;
}

function headlineTable(r: MetricsReport): string {
  const rows = headlineRows(r).map((row) => {
    const t = r.trend[row.key];
    const dir = t.direction ?? 'none';
    return (
      `<tr data-metric="${esc(row.key)}"><th scope="row">${esc(row.name)}</th>` +
      `<td class="value">${esc(row.value)}</td><td class="detail">${esc(row.detail)}</td>${bandCell(row.band)}` +
      `<td class="trend trend-${esc(dir)}" data-trend="${esc(dir)}">${esc(trendText(row.key, t))}</td></tr>`
    );
  });
  return (
    `<table class="headline"><caption>Headline, against the previous window ${esc(formatTime(r.previous.from))} → ${esc(
      formatTime(r.previous.to),
    )}. DORA bands: <span data-bands-source>${esc(r.bands.source)}</span>.</caption>` +
    '<thead><tr><th scope="col">Metric</th><th scope="col">Value</th><th scope="col">Detail</th><th scope="col">DORA band</th><th scope="col">Trend vs previous window</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

function skippedNote(r: MetricsReport): string {
  const s = r.skipped;
  const parts = [
    s.unknownShas > 0 ? `${plural(s.unknownShas, 'deployment')} of commits never seen` : '',
    s.clockSkew > 0
      ? `${plural(s.clockSkew, 'commit')} committed after their deployment finished (clock skew)`
      : '',
    s.incidentsOutOfOrder > 0
      ? `${plural(s.incidentsOutOfOrder, 'incident')} resolved before being opened`
      : '',
  ].filter(Boolean);
  if (parts.length === 0) return '';
  return `<p class="note" data-skipped>Skipped records (left out by the documented rules in ${esc(
    r.definitions,
  )}, "Bad input"): ${esc(parts.join('; '))}.</p>`;
}

function section(r: MetricsReport, index: number): string {
  const charts = [
    deploymentsChart(r),
    leadTimeChart(r),
    changeFailureChart(r),
    recoveryChart(r),
    buildTimeChart(r),
    rollbackChart(r),
  ];
  return (
    `<section class="report" data-report="${index}" data-app="${esc(r.app)}" data-env="${esc(r.env)}">` +
    `<h2>${esc(r.app)} <span class="muted">/</span> ${esc(r.env)}</h2>` +
    '<dl class="meta">' +
    `<dt>App</dt><dd data-field="app">${esc(r.app)}</dd>` +
    `<dt>Environment</dt><dd data-field="env">${esc(r.env)}</dd>` +
    `<dt>Window</dt><dd data-field="window">[${esc(formatTime(r.from))}, ${esc(formatTime(r.to))}), half-open</dd>` +
    `<dt>Bucket</dt><dd data-field="bucket">${esc(r.bucket)}</dd>` +
    `<dt>Definitions</dt><dd data-field="definitions"><code>${esc(r.definitions)}</code></dd>` +
    '</dl>' +
    skippedNote(r) +
    headlineTable(r) +
    `<div class="charts">${charts.map(figure).join('')}</div></section>`
  );
}

const CSS = `
:root{color-scheme:light;--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#fff}
*{box-sizing:border-box}
body{margin:0;padding:24px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);overflow-wrap:anywhere}
header{border-bottom:1px solid var(--line);margin-bottom:16px;padding-bottom:8px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:24px 0 8px}
.muted{color:var(--muted)}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0 0 12px}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0}
table.headline{border-collapse:collapse;width:100%;max-width:1100px;margin:8px 0 16px}
table.headline caption{text-align:left;color:var(--muted);padding-bottom:6px}
table.headline th,table.headline td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
table.headline td.value{font-weight:600;white-space:nowrap}
table.headline td.detail{color:var(--muted)}
.band{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px}
.band-elite{background:#dafbe1;color:#116329}.band-high{background:#ddf4ff;color:#0550ae}
.band-medium{background:#fff8c5;color:#7d4e00}.band-low{background:#ffebe9;color:#a40e26}
.trend-better{color:#116329}.trend-worse{color:#a40e26}.trend-same,.trend-none{color:var(--muted)}
.note{background:#fff8c5;border:1px solid #d4a72c;padding:6px 10px;border-radius:6px;max-width:1100px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,600px),1fr));gap:16px}
figure.chart{margin:0;border:1px solid var(--line);border-radius:6px;padding:10px;min-width:0}
figure.chart figcaption{margin-bottom:6px}figure.chart figcaption span{display:block;color:var(--muted);font-size:12px}
figure.chart>svg{display:block;width:100%;height:auto}
ul.legend{display:flex;flex-wrap:wrap;gap:2px 14px;margin:0 0 4px;padding:0;list-style:none;font-size:12px}
ul.legend li{display:flex;align-items:center;gap:5px}svg.swatch{flex:none}
p.empty{margin:24px 0;padding:24px;text-align:center;color:var(--muted);border:1px dashed var(--line);border-radius:6px}
svg text{font:11px system-ui,sans-serif;fill:var(--fg)}svg .tick{fill:var(--muted)}
svg .axis{stroke:#8c959f}svg .grid{stroke:#eaeef2}
svg .dashed{stroke-dasharray:5 4}
svg .c-deploy{fill:#4c78a8}svg .c-rollback{fill:#e45756}svg .c-release{fill:#72b7b2}svg .c-toggle{fill:#b279a2}
svg .c-cfr{fill:#f58518}svg .c-ref{stroke:#656d76;stroke-width:1.5}
svg circle.c-lead{fill:#4c78a8}svg path.c-lead,svg line.c-lead{stroke:#4c78a8;stroke-width:2}
svg .c-lead-p90{stroke:#9ecae9;stroke-width:2;fill:none}
svg .c-recovery{fill:#54a24b}svg .c-recovery-median{stroke:#2f6b29;stroke-width:2.5}svg .c-open{fill:#e45756}
svg circle.c-p50{fill:#4c78a8}svg path.c-p50,svg line.c-p50{stroke:#4c78a8;stroke-width:2}
svg circle.c-p95{fill:#f58518}svg path.c-p95,svg line.c-p95{stroke:#f58518;stroke-width:2}
svg .c-slo{stroke:#a40e26;stroke-width:1.5}svg .slo-label{fill:#a40e26;font-weight:600}
svg .c-ok{fill:#54a24b}svg .c-breach{fill:#f58518}svg .c-failed{stroke:#a40e26;stroke-width:2.5;fill:none}
footer{margin-top:24px;color:var(--muted);font-size:12px}
@media (max-width:640px){
body{padding:12px}
table.headline thead{display:none}
table.headline,table.headline caption,table.headline tbody,table.headline tr,table.headline th,table.headline td{display:block}
table.headline tr{border-bottom:1px solid var(--line);padding:6px 0}
table.headline th,table.headline td{border:0;padding:1px 0}
table.headline td.value{white-space:normal}
svg text{font-size:16px}svg .axis-title{display:none}
}
`;

/**
 * One self-contained HTML page for one or more reports (one section each). The page carries a
 * Content-Security-Policy that forbids scripts and every network load, as a second line behind escaping.
 */
export function renderReportHtml(
  reports: MetricsReport[] | MetricsReport,
  opts: ReportHtmlOptions = {},
): string {
  const list = Array.isArray(reports) ? reports : [reports];
  const title =
    opts.title ??
    (list.length
      ? `Delivery metrics — ${list.map((r) => `${r.app} / ${r.env}`).join(', ')}`
      : 'Delivery metrics');
  const generated =
    opts.generatedAt === undefined
      ? ''
      : `<p class="muted" data-field="generated">Generated ${esc(formatTime(opts.generatedAt))}</p>`;
  const definitions = list[0]?.definitions ?? 'docs/metrics.md';
  const body = list.length
    ? list.map(section).join('')
    : '<p class="empty">No reports to show: no data in this window.</p>';
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` +
    `<title>${esc(title)}</title><style>${CSS}</style></head><body>` +
    `<header><h1>${esc(title)}</h1>${generated}` +
    `<p class="muted">Definitions of every metric: <code data-field="definitions-doc">${esc(definitions)}</code>. Times in UTC; windows are half-open [from, to).</p></header>` +
    `<main>${body}</main>` +
    '<footer>Gantry delivery metrics report. Self-contained: no scripts, fonts, images or network requests.</footer>' +
    '</body></html>\n'
  );
}
