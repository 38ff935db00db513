/** The report's SVG charts, drawn as strings; pure. Every string from the data is escaped. */
import type { Bucket, MetricsReport, SeriesPoint } from './engine/index.js';
import {
  bucketName,
  bucketTick,
  durationTickLabels,
  durationTicks,
  esc,
  formatDuration,
  formatPercent,
  formatTime,
  linearScale,
  niceTicks,
  plural,
} from './report-format.js';

// ---------------------------------------------------------------------------------------------------------
// SVG pieces

// The drawing's own units: the SVG scales to its card (width 100%, height from the viewBox), so
// these are proportions, not pixels. The left margin leaves room for tick labels at the larger font
// a narrow screen gets (CSS).
const W = 720;
const H = 240;
const M = { left: 72, right: 24, top: 16, bottom: 42 };
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

/**
 * The legend, in HTML under the caption: it wraps on a narrow screen and keeps the page's font size,
 * where text inside the SVG scales down with the chart. Each swatch is a small SVG of its own.
 */
function legendHtml(items: LegendItem[]): string {
  const mark = (item: LegendItem) =>
    item.swatch === 'bar'
      ? `<rect x="1" y="2" width="12" height="10" class="${item.cls}"/>`
      : item.swatch === 'line' || item.swatch === 'dash'
        ? `<line x1="0" y1="7" x2="14" y2="7" class="${item.cls}${item.swatch === 'dash' ? ' dashed' : ''}"/>`
        : item.swatch === 'dot'
          ? `<circle cx="7" cy="7" r="4" class="${item.cls}"/>`
          : `<path d="${item.swatch === 'triangle' ? triangle(7, 7) : cross(7, 7)}" class="${item.cls}"/>`;
  const li = items.map(
    (item) =>
      `<li><svg class="swatch" viewBox="0 0 14 14" width="14" height="14" aria-hidden="true">${mark(item)}</svg>${esc(item.label)}</li>`,
  );
  return `<ul class="legend">${li.join('')}</ul>`;
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

/** Fills its card's width at any size; the height follows from the viewBox. */
export const svg = (label: string, body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" preserveAspectRatio="xMidYMid meet" role="img" aria-label="${esc(label)}">${body}</svg>`;

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

/**
 * A duration y axis from 0, labelled in one unit ("0 min … 25 min"); with `strip`, the top STRIP
 * units are left for markers without a value.
 */
function durationAxis(maxMs: number, strip = false) {
  const ticks = durationTicks(maxMs);
  const top = ticks[ticks.length - 1]!;
  const y = linearScale(0, top, PLOT.y0, PLOT.y1 + (strip ? STRIP : 0));
  const labels = durationTickLabels(ticks);
  return { y, top, ticks: ticks.map((v, i) => ({ at: y(v), label: labels[i]! })) };
}

/**
 * The y scale of a chart against an SLO: scaled to the data, so sub-second points do not lie flat
 * under a 10-minute SLO. The SLO is drawn when it is within twice the largest point (the axis then
 * reaches it); above that the chart says where it is instead.
 */
function sloAxis(dataMaxMs: number, sloMs: number, strip = false) {
  const inRange = sloMs <= 2 * dataMaxMs;
  const axis = durationAxis(inRange ? Math.max(dataMaxMs, sloMs) : dataMaxMs, strip);
  const drawn = sloMs <= axis.top;
  const mark = drawn ? sloLine(axis.y(sloMs), sloMs) : sloAbove(sloMs, axis.top);
  /** The legend's SLO key: only when its line is drawn. */
  const key: LegendItem[] = drawn
    ? [{ label: `SLO ${formatDuration(sloMs)}`, cls: 'c-slo', swatch: 'dash' }]
    : [];
  return { ...axis, mark, key };
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
export function line(points: { i: number; x: number; y: number }[], cls: string, attrs = ''): string {
  const d = points
    .map((p, k) => `${k > 0 && points[k - 1]!.i === p.i - 1 ? 'L' : 'M'}${n1(p.x)} ${n1(p.y)}`)
    .join('');
  if (!d.includes('L')) return '';
  return `<path d="${d}" class="${cls}" fill="none"${attrs}/>`;
}

/** An SLO far above every point: said at the top of the chart, not drawn. */
function sloAbove(sloMs: number, topMs: number): string {
  return (
    `<g class="slo" data-slo-above="${esc(sloMs)}"><text x="${PLOT.x1}" y="${n1(PLOT.y1 - 4)}" text-anchor="end" class="slo-label">↑ SLO ${esc(formatDuration(sloMs))}, above this scale</text>` +
    `${tip(`SLO: ${formatDuration(sloMs)}, ${Math.round(sloMs / Math.max(1, topMs))}× the top of this scale; every point is within it`)}</g>`
  );
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

type ChartId =
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
  legend?: LegendItem[];
  empty: string;
}

export function figure(c: Chart): string {
  const head = `<figcaption><strong>${esc(c.title)}</strong><span>${esc(c.caption)}</span></figcaption>`;
  if (c.svg === null) {
    return `<figure class="chart" data-chart="${c.id}" data-empty="true">${head}<p class="empty">No data in this window: ${esc(c.empty)}.</p></figure>`;
  }
  return `<figure class="chart" data-chart="${c.id}">${head}${legendHtml(c.legend ?? [])}${c.svg}</figure>`;
}

const per = (bucket: Bucket) => (bucket === 'day' ? 'day' : bucket === 'week' ? 'week' : 'month');

export function deploymentsChart(r: MetricsReport): Chart {
  const s = r.series;
  const base: Omit<Chart, 'svg'> = {
    id: 'deployments',
    title: `Deployments and releases per ${per(r.bucket)}`,
    caption:
      'Deployments (rollbacks shown apart at the bottom of each deployment bar) and, counted apart, releases: releases applied and toggles switched on outside a release.',
    empty: 'no deployments, releases or toggles switched on',
  };
  const top = maxOf(s.flatMap((p) => [p.deployments, p.releasesApplied, p.togglesOn]));
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
    if (p.releasesApplied > 0)
      out.push(
        bar(
          i,
          1,
          p.releasesApplied,
          'c-release',
          'releases',
          `${name}: ${plural(p.releasesApplied, 'release')} applied (${plural(p.releases, 'release')} in all)`,
        ),
      );
    if (p.togglesOn > 0)
      out.push(
        bar(
          i,
          2,
          p.togglesOn,
          'c-toggle',
          'toggles-on',
          `${name}: ${plural(p.togglesOn, 'toggle')} switched on outside a release (${plural(p.releases, 'release')} in all)`,
        ),
      );
    return out.join('');
  });
  const keys: LegendItem[] = [
    { label: 'deployments', cls: 'c-deploy', swatch: 'bar' },
    { label: 'of which rollbacks', cls: 'c-rollback', swatch: 'bar' },
    { label: 'releases applied', cls: 'c-release', swatch: 'bar' },
    { label: 'toggles switched on alone', cls: 'c-toggle', swatch: 'bar' },
  ];
  const body = `${axes(
    ticks.map((v) => ({ at: y(v), label: String(v) })),
    bandTicks(r),
    'count',
  )}<g class="marks">${bars.join('')}</g>`;
  return { ...base, legend: keys, svg: svg(base.title, body) };
}

export function leadTimeChart(r: MetricsReport): Chart {
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
  const keys: LegendItem[] = [
    { label: 'median', cls: 'c-lead', swatch: 'line' },
    { label: 'p90', cls: 'c-lead-p90', swatch: 'dash' },
  ];
  const body =
    axes(ticks, bandTicks(r), 'lead time') +
    `<g class="marks">${line(p90, 'c-lead-p90 dashed', ' data-line="lead-time-p90"')}${line(medians, 'c-lead', ' data-line="lead-time"')}${dots.join('')}</g>`;
  return { ...base, legend: keys, svg: svg(base.title, body) };
}

export function changeFailureChart(r: MetricsReport): Chart {
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
  const keys: LegendItem[] = [
    { label: 'failed ÷ deployments', cls: 'c-cfr', swatch: 'bar' },
    { label: 'whole window', cls: 'c-ref', swatch: 'dash' },
  ];
  const body = `${axes(
    [0, 0.25, 0.5, 0.75, 1].map((v) => ({ at: y(v), label: formatPercent(v) })),
    bandTicks(r),
    'change failure rate',
  )}<g class="marks">${bars.join('')}${overall}</g>`;
  return { ...base, legend: keys, svg: svg(base.title, body) };
}

export function recoveryChart(r: MetricsReport): Chart {
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
  const keys: LegendItem[] = [
    { label: 'each recovery', cls: 'c-recovery', swatch: 'dot' },
    { label: `median per ${per(r.bucket)}`, cls: 'c-recovery-median', swatch: 'line' },
    { label: 'open (not recovered)', cls: 'c-open', swatch: 'triangle' },
  ];
  const body =
    axes(ticks, x.ticks, 'recovery time') +
    (open ? stripLabel('open') : '') +
    `<g class="marks">${medians.join('')}${points.join('')}</g>`;
  return { ...base, legend: keys, svg: svg(base.title, body) };
}

export function buildTimeChart(r: MetricsReport): Chart {
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
  const { y, ticks, mark, key } = sloAxis(
    maxOf(present.flatMap(({ p }) => [p.buildP50Ms, p.buildP95Ms])),
    b.sloMs,
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
  const keys: LegendItem[] = [
    { label: 'p50', cls: 'c-p50', swatch: 'line' },
    { label: 'p95', cls: 'c-p95', swatch: 'line' },
    ...key,
  ];
  const body =
    axes(ticks, bandTicks(r), 'build time') +
    `<g class="marks">${mark}${series('buildP95Ms', 'p95', 'c-p95', 'build-p95', 5.5)}${series(
      'buildP50Ms',
      'p50',
      'c-p50',
      'build-p50',
      4,
    )}</g>`;
  return { ...base, legend: keys, svg: svg(base.title, body) };
}

export function rollbackChart(r: MetricsReport): Chart {
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
  const { y, ticks, mark, key } = sloAxis(maxOf(rb.points.map((p) => p.durationMs)), rb.sloMs, failed);
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
  const keys: LegendItem[] = [
    { label: 'within SLO', cls: 'c-ok', swatch: 'dot' },
    { label: 'over SLO', cls: 'c-breach', swatch: 'dot' },
    { label: 'failed (breach)', cls: 'c-failed', swatch: 'cross' },
    ...key,
  ];
  const body =
    axes(ticks, x.ticks, 'rollback time') +
    (failed ? stripLabel('failed') : '') +
    `<g class="marks">${mark}${points.join('')}</g>`;
  return { ...base, legend: keys, svg: svg(base.title, body) };
}
