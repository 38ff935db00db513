/**
 * `gantry report --html`: one self-contained HTML page (inline CSS, inline SVG drawn here, no script,
 * no font, no image, no network) for one or more metrics reports. Pure: the same reports and options
 * give the same bytes. Every string that comes from the data is escaped.
 */
import { humanDuration as formatDuration } from '@gantry/contracts';
import type { Band, Bucket, Headline, MetricsReport, SeriesPoint, Trend } from './engine/index.js';

export { formatDuration };

export interface ReportHtmlOptions {
  /** The page title; defaults to "Delivery metrics — <app> / <env>, …". */
  title?: string;
  /** Shown in the header as given (ISO time recommended). Left out when absent, so the output stays pure. */
  generatedAt?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Formatting

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
const esc = escapeHtml;

const trimZero = (s: string) => s.replace(/\.0$/, '');

/** A share in [0, 1] as a percentage: "25%", "33.3%"; null gives "—". */
export function formatPercent(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return '—';
  return `${trimZero((share * 100).toFixed(1))}%`;
}

/** Plain numbers: whole numbers as they are, others with two significant decimals at most. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : Math.min(6, 1 - Math.floor(Math.log10(abs)));
  return String(Number(v.toFixed(digits)));
}

const pad = (n: number) => String(n).padStart(2, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "2024-01-08" at midnight UTC, else "2024-01-08 14:05 UTC"; unparseable input is shown as given. */
export function formatTime(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const d = new Date(t);
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (t % DAY === 0) return day;
  return `${day} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/** Short axis label of a bucket start: "Jan 8" for days and weeks, "Jan 2024" for months. */
function bucketTick(start: string | number, bucket: Bucket): string {
  const d = new Date(start);
  if (Number.isNaN(d.getTime())) return String(start);
  const month = MONTHS[d.getUTCMonth()]!;
  return bucket === 'month' ? `${month} ${d.getUTCFullYear()}` : `${month} ${d.getUTCDate()}`;
}

/** The bucket named in tooltips: "2024-01-08", "week of 2024-01-08", "2024-01". */
function bucketName(start: string, bucket: Bucket): string {
  const day = formatTime(start).slice(0, 10);
  return bucket === 'week' ? `week of ${day}` : bucket === 'month' ? day.slice(0, 7) : day;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// ---------------------------------------------------------------------------------------------------------
// Scales

/** A linear map from [d0, d1] to [r0, r1]; a zero-width domain maps everything to r0. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0;
  return (v) => (span === 0 || !Number.isFinite(span) ? r0 : r0 + ((v - d0) / span) * (r1 - r0));
}

/**
 * Round ticks from 0 covering max: steps of 1, 2, 2.5 or 5 × 10^k (no 2.5 and at least 1 when
 * `integer`), about `target` of them. A max that is not a positive number is taken as 1.
 */
export function niceTicks(max: number, target = 5, integer = false): number[] {
  const top = Number.isFinite(max) && max > 0 ? max : 1;
  const raw = top / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const steps = (integer ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10]).map((m) => m * mag);
  let step = steps.find((s) => s >= raw * (1 - 1e-9)) ?? 10 * mag;
  if (integer) step = Math.max(1, Math.round(step));
  const count = Math.max(1, Math.ceil(top / step - 1e-9));
  return Array.from({ length: count + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

const DURATION_STEPS = [
  ...[1, 2, 5, 10, 20, 50, 100, 200, 500],
  ...[1, 2, 5, 10, 15, 30].map((n) => n * SECOND),
  ...[1, 2, 5, 10, 15, 30].map((n) => n * MINUTE),
  ...[1, 2, 3, 6, 12].map((n) => n * HOUR),
  ...[1, 2, 7, 14, 30, 60, 90, 180, 365].map((n) => n * DAY),
];

/**
 * Ticks from 0 covering maxMs at a step people read as a duration (1 s, 15 s, 5 min, 6 h, 7 d…), at most
 * `target` steps. A max that is not a positive number gives [0, 1 s].
 */
export function durationTicks(maxMs: number, target = 5): number[] {
  if (!Number.isFinite(maxMs) || maxMs <= 0) return [0, SECOND];
  const step =
    DURATION_STEPS.find((s) => maxMs / s <= target + 1e-9) ??
    niceTicks(maxMs / (365 * DAY), target, true)[1]! * 365 * DAY;
  const count = Math.max(1, Math.ceil(maxMs / step - 1e-9));
  return Array.from({ length: count + 1 }, (_, i) => i * step);
}

// ---------------------------------------------------------------------------------------------------------
// SVG pieces

const W = 720;
const H = 260;
const M = { left: 64, right: 24, top: 34, bottom: 42 };
const PLOT = { x0: M.left, x1: W - M.right, y0: H - M.bottom, y1: M.top };

/** Coordinates with one decimal; anything not finite becomes 0 so no attribute can read "NaN". */
const n1 = (v: number) => (Number.isFinite(v) ? String(Math.round(v * 10) / 10) : '0');

const tip = (text: string) => `<title>${esc(text)}</title>`;

type Swatch = 'bar' | 'line' | 'dash' | 'dot' | 'cross' | 'triangle';
interface LegendItem {
  label: string;
  cls: string;
  swatch: Swatch;
}

function legend(items: LegendItem[]): string {
  let x = M.left;
  const y = 14;
  const parts = items.map((item) => {
    const at = x;
    x += 30 + item.label.length * 6.4;
    const mark =
      item.swatch === 'bar'
        ? `<rect x="${at}" y="${y - 5}" width="12" height="10" class="${item.cls}"/>`
        : item.swatch === 'line' || item.swatch === 'dash'
          ? `<line x1="${at}" y1="${y}" x2="${at + 14}" y2="${y}" class="${item.cls}${item.swatch === 'dash' ? ' dashed' : ''}"/>`
          : item.swatch === 'dot'
            ? `<circle cx="${at + 6}" cy="${y}" r="4" class="${item.cls}"/>`
            : item.swatch === 'triangle'
              ? `<path d="${triangle(at + 6, y)}" class="${item.cls}"/>`
              : `<path d="${cross(at + 6, y)}" class="${item.cls}"/>`;
    return `${mark}<text x="${at + 18}" y="${y + 4}">${esc(item.label)}</text>`;
  });
  return `<g class="legend">${parts.join('')}</g>`;
}

const cross = (x: number, y: number, r = 5) =>
  `M${n1(x - r)} ${n1(y - r)}L${n1(x + r)} ${n1(y + r)}M${n1(x - r)} ${n1(y + r)}L${n1(x + r)} ${n1(y - r)}`;
const triangle = (x: number, y: number, r = 5) =>
  `M${n1(x)} ${n1(y - r)}L${n1(x + r)} ${n1(y + r)}L${n1(x - r)} ${n1(y + r)}Z`;

interface Tick {
  at: number;
  label: string;
}

/** Grid lines and labels of the y axis, the axis lines, x tick labels and the y-axis title. */
function axes(yTicks: Tick[], xTicks: Tick[], yTitle: string): string {
  const grid = yTicks
    .map(
      (t) =>
        `<line x1="${PLOT.x0}" x2="${PLOT.x1}" y1="${n1(t.at)}" y2="${n1(t.at)}" class="grid"/>` +
        `<text x="${PLOT.x0 - 6}" y="${n1(t.at + 4)}" text-anchor="end" class="tick">${esc(t.label)}</text>`,
    )
    .join('');
  const xs = xTicks
    .map(
      (t) =>
        `<line x1="${n1(t.at)}" x2="${n1(t.at)}" y1="${PLOT.y0}" y2="${PLOT.y0 + 4}" class="axis"/>` +
        `<text x="${n1(t.at)}" y="${PLOT.y0 + 17}" text-anchor="middle" class="tick">${esc(t.label)}</text>`,
    )
    .join('');
  return (
    `<g class="axes" data-axis="y">${grid}` +
    `<line x1="${PLOT.x0}" x2="${PLOT.x0}" y1="${PLOT.y1}" y2="${PLOT.y0}" class="axis"/>` +
    `<text transform="translate(14 ${n1((PLOT.y0 + PLOT.y1) / 2)}) rotate(-90)" text-anchor="middle" class="axis-title">${esc(yTitle)}</text></g>` +
    `<g class="axes" data-axis="x"><line x1="${PLOT.x0}" x2="${PLOT.x1}" y1="${PLOT.y0}" y2="${PLOT.y0}" class="axis"/>${xs}</g>`
  );
}

/** Keeps about `max` labels, evenly spaced, always the first. */
function thin<T>(items: T[], max = 9): T[] {
  const every = Math.max(1, Math.ceil(items.length / max));
  return items.filter((_, i) => i % every === 0);
}

const svg = (label: string, body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(label)}">${body}</svg>`;

/** Buckets as equal bands along x. */
function bandX(series: SeriesPoint[]) {
  const bw = (PLOT.x1 - PLOT.x0) / Math.max(1, series.length);
  return {
    bw,
    start: (i: number) => PLOT.x0 + i * bw,
    center: (i: number) => PLOT.x0 + (i + 0.5) * bw,
  };
}

function bandTicks(r: MetricsReport): Tick[] {
  const x = bandX(r.series);
  return thin(r.series.map((p, i) => ({ at: x.center(i), label: bucketTick(p.start, r.bucket) })));
}

/** Time along x over the window [from, to). */
function timeX(r: MetricsReport) {
  const from = Date.parse(r.from);
  const to = Date.parse(r.to);
  const scale = linearScale(from, to, PLOT.x0, PLOT.x1);
  const clamp = (t: number) => Math.min(Math.max(t, from), to);
  const ticks = thin(
    r.series.map((p) => {
      const t = clamp(Date.parse(p.start));
      return { at: scale(t), label: bucketTick(t, r.bucket) };
    }),
  );
  return { scale: (t: number) => scale(clamp(t)), from, to, ticks };
}

/** Height of the strip above the plot that holds items without a duration (failed, open). */
const STRIP = 22;
const STRIP_Y = PLOT.y1 + 8;

/** A duration y axis from 0; with `strip`, the top STRIP pixels are left for markers without a value. */
function durationAxis(maxMs: number, strip = false) {
  const ticks = durationTicks(maxMs);
  const y = linearScale(0, ticks[ticks.length - 1]!, PLOT.y0, PLOT.y1 + (strip ? STRIP : 0));
  return { y, ticks: ticks.map((v) => ({ at: y(v), label: formatDuration(v) })) };
}

function stripLabel(label: string): string {
  return `<text x="${PLOT.x0 - 6}" y="${STRIP_Y + 4}" text-anchor="end" class="tick">${esc(label)}</text>`;
}

const maxOf = (values: (number | null | undefined)[]) =>
  values.reduce<number>((m, v) => (typeof v === 'number' && Number.isFinite(v) && v > m ? v : m), 0);

/**
 * A line through the points of consecutive buckets; a bucket without a value breaks it, so a gap is not
 * drawn as a trend. Nothing when no two points are adjacent.
 */
function line(points: { i: number; x: number; y: number }[], cls: string, attrs = ''): string {
  const d = points
    .map((p, k) => `${k > 0 && points[k - 1]!.i === p.i - 1 ? 'L' : 'M'}${n1(p.x)} ${n1(p.y)}`)
    .join('');
  if (!d.includes('L')) return '';
  return `<path d="${d}" class="${cls}" fill="none"${attrs}/>`;
}

function sloLine(y: number, sloMs: number): string {
  return (
    `<g class="slo" data-slo-line="${esc(sloMs)}"><line x1="${PLOT.x0}" x2="${PLOT.x1}" y1="${n1(y)}" y2="${n1(y)}" class="c-slo dashed"/>` +
    `<text x="${PLOT.x1}" y="${n1(y - 4)}" text-anchor="end" class="slo-label">SLO ${esc(formatDuration(sloMs))}</text>` +
    `${tip(`SLO: ${formatDuration(sloMs)}`)}</g>`
  );
}

// ---------------------------------------------------------------------------------------------------------
// Charts

export type ChartId =
  | 'deployments'
  | 'lead-time'
  | 'change-failure-rate'
  | 'recovery'
  | 'build-time'
  | 'rollback-time';

interface Chart {
  id: ChartId;
  title: string;
  caption: string;
  /** The SVG, or null when the window holds nothing to draw. */
  svg: string | null;
  empty: string;
}

function figure(c: Chart): string {
  const head = `<figcaption><strong>${esc(c.title)}</strong><span>${esc(c.caption)}</span></figcaption>`;
  if (c.svg === null) {
    return `<figure class="chart" data-chart="${c.id}" data-empty="true">${head}<p class="empty">No data in this window: ${esc(c.empty)}.</p></figure>`;
  }
  return `<figure class="chart" data-chart="${c.id}">${head}${c.svg}</figure>`;
}

const per = (bucket: Bucket) => (bucket === 'day' ? 'day' : bucket === 'week' ? 'week' : 'month');

function deploymentsChart(r: MetricsReport): Chart {
  const s = r.series;
  const base: Omit<Chart, 'svg'> = {
    id: 'deployments',
    title: `Deployments and releases per ${per(r.bucket)}`,
    caption:
      'Deployments (rollbacks shown apart at the bottom of each deployment bar), releases applied and toggles switched on, counted apart.',
    empty: 'no deployments, releases or toggles switched on',
  };
  const top = maxOf(s.flatMap((p) => [p.deployments, p.releases, p.togglesOn]));
  if (top === 0) return { ...base, svg: null };
  const ticks = niceTicks(top, 5, true);
  const y = linearScale(0, ticks[ticks.length - 1]!, PLOT.y0, PLOT.y1);
  const x = bandX(s);
  const sw = (x.bw * 0.8) / 3;
  const bar = (i: number, slot: number, v: number, cls: string, kind: string, text: string) =>
    `<rect x="${n1(x.start(i) + x.bw * 0.1 + slot * sw)}" y="${n1(y(v))}" width="${n1(Math.max(1, sw - 1))}" height="${n1(y(0) - y(v))}" class="${cls}" data-bar="${kind}">${tip(text)}</rect>`;
  const bars = s.map((p, i) => {
    const name = bucketName(p.start, r.bucket);
    const out: string[] = [];
    if (p.deployments > 0)
      out.push(
        bar(
          i,
          0,
          p.deployments,
          'c-deploy',
          'deployments',
          `${name}: ${plural(p.deployments, 'deployment')}, of which ${plural(p.rollbacks, 'rollback')}`,
        ),
      );
    if (p.rollbacks > 0)
      out.push(
        bar(
          i,
          0,
          p.rollbacks,
          'c-rollback',
          'rollbacks',
          `${name}: ${plural(p.rollbacks, 'rollback')} (counted in the ${plural(p.deployments, 'deployment')})`,
        ),
      );
    if (p.releases > 0)
      out.push(
        bar(i, 1, p.releases, 'c-release', 'releases', `${name}: ${plural(p.releases, 'release')} applied`),
      );
    if (p.togglesOn > 0)
      out.push(
        bar(
          i,
          2,
          p.togglesOn,
          'c-toggle',
          'toggles-on',
          `${name}: ${plural(p.togglesOn, 'toggle')} switched on`,
        ),
      );
    return out.join('');
  });
  const body =
    legend([
      { label: 'deployments', cls: 'c-deploy', swatch: 'bar' },
      { label: 'of which rollbacks', cls: 'c-rollback', swatch: 'bar' },
      { label: 'releases applied', cls: 'c-release', swatch: 'bar' },
      { label: 'toggles switched on', cls: 'c-toggle', swatch: 'bar' },
    ]) +
    axes(
      ticks.map((v) => ({ at: y(v), label: String(v) })),
      bandTicks(r),
      'count',
    ) +
    `<g class="marks">${bars.join('')}</g>`;
  return { ...base, svg: svg(base.title, body) };
}

function leadTimeChart(r: MetricsReport): Chart {
  const s = r.series;
  const base: Omit<Chart, 'svg'> = {
    id: 'lead-time',
    title: 'Lead time for changes',
    caption: `Median per ${per(r.bucket)} (commit → first production deployment), with p90 dashed.`,
    empty: 'no commit reached production',
  };
  const stats = new Map(r.leadTime.buckets.map((b) => [b.start, b]));
  const present = s.flatMap((p, i) => (p.leadTimeMedianMs === null ? [] : [{ p, i, b: stats.get(p.start) }]));
  if (present.length === 0) return { ...base, svg: null };
  const { y, ticks } = durationAxis(maxOf(present.flatMap(({ p, b }) => [p.leadTimeMedianMs, b?.p90])));
  const x = bandX(s);
  const p90 = present.flatMap(({ i, b }) => (b?.p90 == null ? [] : [{ i, x: x.center(i), y: y(b.p90) }]));
  const medians = present.map(({ p, i }) => ({ i, x: x.center(i), y: y(p.leadTimeMedianMs!) }));
  const dots = present.map(
    ({ p, i, b }) =>
      `<circle cx="${n1(x.center(i))}" cy="${n1(y(p.leadTimeMedianMs!))}" r="4" class="c-lead" data-point="lead-time">${tip(
        `${bucketName(p.start, r.bucket)}: median ${formatDuration(p.leadTimeMedianMs)}` +
          (b ? `, p90 ${formatDuration(b.p90)}, ${plural(b.n, 'commit')}` : ''),
      )}</circle>`,
  );
  const body =
    legend([
      { label: 'median', cls: 'c-lead', swatch: 'line' },
      { label: 'p90', cls: 'c-lead-p90', swatch: 'dash' },
    ]) +
    axes(ticks, bandTicks(r), 'lead time') +
    `<g class="marks">${line(p90, 'c-lead-p90 dashed', ' data-line="lead-time-p90"')}${line(medians, 'c-lead', ' data-line="lead-time"')}${dots.join('')}</g>`;
  return { ...base, svg: svg(base.title, body) };
}

function changeFailureChart(r: MetricsReport): Chart {
  const s = r.series;
  const cfr = r.changeFailureRate;
  const base: Omit<Chart, 'svg'> = {
    id: 'change-failure-rate',
    title: `Change failure rate per ${per(r.bucket)}`,
    caption:
      'Failed deployments ÷ deployments' +
      (cfr.deployments
        ? `; whole window: ${formatPercent(cfr.rate)} (${cfr.failed} of ${cfr.deployments}).`
        : '.'),
    empty: 'no deployments',
  };
  const present = s.flatMap((p, i) => (p.changeFailureRate === null ? [] : [{ p, i }]));
  if (present.length === 0) return { ...base, svg: null };
  const y = linearScale(0, 1, PLOT.y0, PLOT.y1);
  const x = bandX(s);
  const w = Math.max(2, x.bw * 0.6);
  const bars = present.map(({ p, i }) => {
    const rate = Math.min(1, Math.max(0, p.changeFailureRate!));
    // A 0% bucket still gets a sliver, so it reads as "measured, none failed" rather than "no data".
    const h = Math.max(2, y(0) - y(rate));
    return `<rect x="${n1(x.center(i) - w / 2)}" y="${n1(y(0) - h)}" width="${n1(w)}" height="${n1(h)}" class="c-cfr" data-bar="change-failure-rate">${tip(
      `${bucketName(p.start, r.bucket)}: ${p.failed} of ${plural(p.deployments, 'deployment')} failed (${formatPercent(rate)})`,
    )}</rect>`;
  });
  const overall =
    cfr.rate === null
      ? ''
      : `<line x1="${PLOT.x0}" x2="${PLOT.x1}" y1="${n1(y(cfr.rate))}" y2="${n1(y(cfr.rate))}" class="c-ref dashed" data-line="window-rate">${tip(
          `whole window: ${formatPercent(cfr.rate)}`,
        )}</line>`;
  const body =
    legend([
      { label: 'failed ÷ deployments', cls: 'c-cfr', swatch: 'bar' },
      { label: 'whole window', cls: 'c-ref', swatch: 'dash' },
    ]) +
    axes(
      [0, 0.25, 0.5, 0.75, 1].map((v) => ({ at: y(v), label: formatPercent(v) })),
      bandTicks(r),
      'change failure rate',
    ) +
    `<g class="marks">${bars.join('')}${overall}</g>`;
  return { ...base, svg: svg(base.title, body) };
}

function recoveryChart(r: MetricsReport): Chart {
  const rec = r.recoveryTime;
  const base: Omit<Chart, 'svg'> = {
    id: 'recovery',
    title: 'Failed deployment recovery time',
    caption: `Each failed deployment at its finish (failed → remediated or incidents resolved), with the median per ${per(
      r.bucket,
    )}; open ones along the top.${
      rec.recoveries.length
        ? ` Median ${formatDuration(rec.median)}, p90 ${formatDuration(rec.p90)}, ${rec.open.length} open.`
        : ''
    }`,
    empty: 'no failed deployments',
  };
  if (rec.recoveries.length === 0) return { ...base, svg: null };
  const open = rec.recoveries.some((v) => v.recoveryMs === null);
  const { y, ticks } = durationAxis(
    maxOf([...rec.recoveries.map((x) => x.recoveryMs), ...r.series.map((p) => p.recoveryMedianMs)]),
    open,
  );
  const x = timeX(r);
  const medians = r.series.flatMap((p, i) => {
    if (p.recoveryMedianMs === null) return [];
    const start = x.scale(Date.parse(p.start));
    const end = x.scale(i + 1 < r.series.length ? Date.parse(r.series[i + 1]!.start) : x.to);
    return [
      `<line x1="${n1(start)}" x2="${n1(end)}" y1="${n1(y(p.recoveryMedianMs))}" y2="${n1(y(p.recoveryMedianMs))}" class="c-recovery-median" data-line="recovery-median">${tip(
        `${bucketName(p.start, r.bucket)}: median ${formatDuration(p.recoveryMedianMs)}`,
      )}</line>`,
    ];
  });
  const points = rec.recoveries.map((v) => {
    const cx = x.scale(v.finishedAt);
    const when = formatTime(new Date(v.finishedAt).toISOString());
    if (v.recoveryMs === null)
      return `<path d="${triangle(cx, STRIP_Y)}" class="c-open" data-point="recovery-open">${tip(
        `${v.deploymentId} (failed ${when}): not recovered, open`,
      )}</path>`;
    return `<circle cx="${n1(cx)}" cy="${n1(y(v.recoveryMs))}" r="4" class="c-recovery" data-point="recovery">${tip(
      `${v.deploymentId} (failed ${when}): recovered in ${formatDuration(v.recoveryMs)}`,
    )}</circle>`;
  });
  const body =
    legend([
      { label: 'each recovery', cls: 'c-recovery', swatch: 'dot' },
      { label: `median per ${per(r.bucket)}`, cls: 'c-recovery-median', swatch: 'line' },
      { label: 'open (not recovered)', cls: 'c-open', swatch: 'triangle' },
    ]) +
    axes(ticks, x.ticks, 'recovery time') +
    (open ? stripLabel('open') : '') +
    `<g class="marks">${medians.join('')}${points.join('')}</g>`;
  return { ...base, svg: svg(base.title, body) };
}

function buildTimeChart(r: MetricsReport): Chart {
  const s = r.series;
  const b = r.buildTime;
  const base: Omit<Chart, 'svg'> = {
    id: 'build-time',
    title: 'Build time against its SLO',
    caption: `p50 and p95 per ${per(r.bucket)} (started → finished; cancelled builds left out).${
      b.n
        ? ` ${formatPercent(b.withinSloShare)} of ${plural(b.n, 'build')} within the ${formatDuration(b.sloMs)} SLO.`
        : ''
    }`,
    empty: 'no finished builds',
  };
  const present = s.flatMap((p, i) => (p.buildP50Ms === null && p.buildP95Ms === null ? [] : [{ p, i }]));
  if (present.length === 0) return { ...base, svg: null };
  const { y, ticks } = durationAxis(
    maxOf([b.sloMs, ...present.flatMap(({ p }) => [p.buildP50Ms, p.buildP95Ms])]),
  );
  const x = bandX(s);
  // p95 drawn first and larger, so it still shows where p50 equals it (a single build).
  const series = (
    key: 'buildP50Ms' | 'buildP95Ms',
    name: string,
    cls: string,
    id: string,
    radius: number,
  ) => {
    const pts = present.flatMap(({ p, i }) => (p[key] === null ? [] : [{ p, i, v: p[key]! }]));
    return (
      line(
        pts.map(({ i, v }) => ({ i, x: x.center(i), y: y(v) })),
        cls,
        ` data-line="${id}"`,
      ) +
      pts
        .map(
          ({ p, i, v }) =>
            `<circle cx="${n1(x.center(i))}" cy="${n1(y(v))}" r="${radius}" class="${cls}" data-point="${id}">${tip(
              `${bucketName(p.start, r.bucket)}: ${name} ${formatDuration(v)}${v > b.sloMs ? ' (over the SLO)' : ''}`,
            )}</circle>`,
        )
        .join('')
    );
  };
  const body =
    legend([
      { label: 'p50', cls: 'c-p50', swatch: 'line' },
      { label: 'p95', cls: 'c-p95', swatch: 'line' },
      { label: `SLO ${formatDuration(b.sloMs)}`, cls: 'c-slo', swatch: 'dash' },
    ]) +
    axes(ticks, bandTicks(r), 'build time') +
    `<g class="marks">${sloLine(y(b.sloMs), b.sloMs)}${series('buildP95Ms', 'p95', 'c-p95', 'build-p95', 5.5)}${series(
      'buildP50Ms',
      'p50',
      'c-p50',
      'build-p50',
      4,
    )}</g>`;
  return { ...base, svg: svg(base.title, body) };
}

function rollbackChart(r: MetricsReport): Chart {
  const rb = r.rollbackTime;
  const base: Omit<Chart, 'svg'> = {
    id: 'rollback-time',
    title: 'Rollback time against its SLO',
    caption: `Each rollback at its request (requested → previous release serving); failed rollbacks are breaches, marked along the top.${
      rb.points.length
        ? ` p50 ${formatDuration(rb.median)}, p95 ${formatDuration(rb.p95)}; ${rb.withinSlo} of ${rb.points.length} within the ${formatDuration(rb.sloMs)} SLO.`
        : ''
    }`,
    empty: 'no rollbacks',
  };
  if (rb.points.length === 0) return { ...base, svg: null };
  const failed = rb.points.some((p) => p.durationMs === null);
  const { y, ticks } = durationAxis(maxOf([rb.sloMs, ...rb.points.map((p) => p.durationMs)]), failed);
  const x = timeX(r);
  const points = rb.points.map((p) => {
    const cx = x.scale(Date.parse(p.requestedAt));
    const when = formatTime(p.requestedAt);
    if (p.durationMs === null)
      return `<path d="${cross(cx, STRIP_Y)}" class="c-failed" data-point="rollback" data-failed="true">${tip(
        `${p.id} (requested ${when}): failed, an SLO breach`,
      )}</path>`;
    const within = p.durationMs <= rb.sloMs;
    return `<circle cx="${n1(cx)}" cy="${n1(y(p.durationMs))}" r="4" class="${within ? 'c-ok' : 'c-breach'}" data-point="rollback" data-failed="false">${tip(
      `${p.id} (requested ${when}): ${formatDuration(p.durationMs)}, ${within ? 'within' : 'over'} the SLO`,
    )}</circle>`;
  });
  const body =
    legend([
      { label: 'within SLO', cls: 'c-ok', swatch: 'dot' },
      { label: 'over SLO', cls: 'c-breach', swatch: 'dot' },
      { label: 'failed (breach)', cls: 'c-failed', swatch: 'cross' },
      { label: `SLO ${formatDuration(rb.sloMs)}`, cls: 'c-slo', swatch: 'dash' },
    ]) +
    axes(ticks, x.ticks, 'rollback time') +
    (failed ? stripLabel('failed') : '') +
    `<g class="marks">${sloLine(y(rb.sloMs), rb.sloMs)}${points.join('')}</g>`;
  return { ...base, svg: svg(base.title, body) };
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
      return `${formatNumber(v)} / day`;
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
      return `${sign}${formatNumber(abs)} / day`;
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
      key: 'deploymentsPerDay',
      name: 'Deployment frequency',
      value: formatHeadline('deploymentsPerDay', df.perDay),
      detail: `${plural(df.deployments, 'deployment')}, of which ${plural(df.rollbacks, 'rollback')}`,
      band: r.bands.deploymentFrequency,
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
      key: 'reworkRate',
      name: 'Rework rate',
      value: formatPercent(rw.rate),
      detail: `${rw.remediating} of ${plural(rw.deployments, 'deployment')} remediating: ${plural(
        rw.byKind.rollback,
        'rollback',
      )}, ${plural(rw.byKind.revert, 'revert')}, ${plural(rw.byKind['fix-forward'], 'fix-forward')}`,
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
      name: 'Releases applied',
      value: formatNumber(rf.releases),
      detail: `${plural(rf.togglesOn, 'toggle')} switched on; both counted apart from deployments`,
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
body{margin:0;padding:24px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
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
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,740px),1fr));gap:16px}
figure.chart{margin:0;border:1px solid var(--line);border-radius:6px;padding:10px}
figure.chart figcaption{margin-bottom:6px}figure.chart figcaption span{display:block;color:var(--muted);font-size:12px}
figure.chart svg{display:block;max-width:100%;height:auto}
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
