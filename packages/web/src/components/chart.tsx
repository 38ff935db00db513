import { useEffect, useId, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './chart.css';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  /** A colour token of styles.css, e.g. '--accent': charts follow light and dark like the page. */
  color: string;
  /** line (with points, the default), bars, points only, or a dashed reference line (an SLO). */
  style?: 'line' | 'bars' | 'points' | 'dashed';
  /** Bars side by side: -1 left of the tick, 1 right of it. */
  align?: -1 | 0 | 1;
}

export interface ChartProps {
  /** A name for tests and ids: `chart-<name>`. */
  name: string;
  title: string;
  /** What the chart says in words: the chart's accessible name, shown under its title too. */
  summary: string;
  /** X values, epoch milliseconds. */
  x: number[];
  /** How an x value is named in the table and the hover legend ("week of 2026-01-05"). */
  xName: (ms: number) => string;
  /** The table's first column header. */
  xLabel: string;
  series: ChartSeries[];
  /** How a y value is written (axis, hover legend and table). */
  format: (v: number) => string;
  /** Counts: y ticks on whole numbers only. */
  integer?: boolean;
  height?: number;
}

function token(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** Counts up when the colour scheme changes, so charts redraw in the new colours. */
function useColorScheme(): number {
  const [n, setN] = useState(0);
  useEffect(() => {
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    const bump = () => setN((v) => v + 1);
    mq.addEventListener('change', bump);
    return () => mq.removeEventListener('change', bump);
  }, []);
  return n;
}

const DAY_S = 86_400;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Axis label of a UTC day (seconds): "Nov 27", or "Nov 2026" when ticks are a month or more apart. */
function dayTick(s: number, incr: number): string {
  const d = new Date(s * 1000);
  const month = MONTHS[d.getUTCMonth()];
  return incr >= 28 * DAY_S ? `${month} ${d.getUTCFullYear()}` : `${month} ${d.getUTCDate()}`;
}

/** The x axis: whole UTC days when every x is a bucket start (midnight UTC), else times in UTC. */
function xAxis(p: ChartProps, text: string, grid: string): uPlot.Axis {
  const common = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
  if (!p.x.every((t) => t % (DAY_S * 1000) === 0)) return common;
  return {
    ...common,
    space: 56,
    incrs: [1, 2, 7, 14, 28, 91, 182, 364].map((n) => n * DAY_S),
    values: (_u, splits, _axis, _space, incr) => splits.map((s) => dayTick(s, incr)),
  };
}

function options(p: ChartProps, width: number): uPlot.Options {
  const text = token('--muted');
  const grid = token('--border');
  const bars = uPlot.paths.bars;
  const bucketed = p.series.some((s) => s.style === 'bars');
  const step = p.x.length > 1 ? (p.x[1]! - p.x[0]!) / 1000 : DAY_S;
  return {
    width,
    height: p.height ?? 220,
    // Times in UTC, as the API and the tables write them.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: {
      x: {
        time: true,
        // Room on either side: half a bucket for bars, a little for points at the edges.
        range: (_u, min, max) => {
          const pad = bucketed ? step / 2 : Math.max((max - min) * 0.04, 3600);
          return [min - pad, max + pad];
        },
      },
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    legend: { show: true, live: true },
    cursor: { points: { size: 8 } },
    axes: [
      xAxis(p, text, grid),
      {
        stroke: text,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid },
        size: 64,
        ...(p.integer ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000] } : {}),
        values: (_u, vals) => vals.map((v) => p.format(v)),
      },
    ],
    series: [
      { label: p.xLabel, value: (_u, v) => (v === null ? '—' : p.xName(v * 1000)) },
      ...p.series.map((s): uPlot.Series => {
        const color = token(s.color);
        const common = {
          label: s.label,
          stroke: color,
          width: 2,
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : p.format(v)),
        };
        if (s.style === 'bars')
          return {
            ...common,
            fill: color,
            paths: bars?.({ size: [s.align ? 0.35 : 0.6, 48], align: s.align ?? 0 }),
            points: { show: false },
          };
        if (s.style === 'points')
          return { ...common, paths: () => null, points: { show: true, size: 8, fill: color } };
        if (s.style === 'dashed') return { ...common, dash: [6, 4], points: { show: false } };
        return { ...common, points: { show: true, size: 6, fill: color }, spanGaps: true };
      }),
    ],
  };
}

/**
 * A uPlot chart with its words: a title, a summary that is also its accessible name, values in the
 * legend as the pointer moves over it, and a table of the same data behind "Show table".
 */
export function Chart(p: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const [table, setTable] = useState(false);
  const scheme = useColorScheme();
  const id = useId();
  const tableId = `${id}-table`;
  const summaryId = `${id}-summary`;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const data: uPlot.AlignedData = [p.x.map((t) => t / 1000), ...p.series.map((s) => s.values)];
    const u = new uPlot(options(p, Math.max(200, el.clientWidth)), data, el);
    const plot = u.root.querySelector('.u-wrap');
    plot?.setAttribute('role', 'img');
    plot?.setAttribute('aria-label', p.summary);
    const resize = new ResizeObserver(() => {
      const width = Math.max(200, el.clientWidth);
      if (Math.abs(width - u.width) > 1) u.setSize({ width, height: u.height });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
    };
    // p's content is what matters; a new object with the same data need not redraw.
  }, [JSON.stringify([p.x, p.series, p.summary]), scheme]);

  return (
    <figure className="chart" data-testid={`chart-${p.name}`} aria-labelledby={`${id}-title`}>
      <div className="chart-head">
        <figcaption id={`${id}-title`}>{p.title}</figcaption>
        <button
          type="button"
          aria-expanded={table}
          aria-controls={tableId}
          onClick={() => setTable((v) => !v)}
        >
          {table ? 'Hide table' : 'Show table'}
        </button>
      </div>
      <p id={summaryId} className="small muted chart-summary">
        {p.summary}
      </p>
      <div ref={box} className="chart-plot" />
      <div id={tableId} className="table-wrap" hidden={!table}>
        {table ? (
          <table>
            <caption>{p.title}</caption>
            <thead>
              <tr>
                <th scope="col">{p.xLabel}</th>
                {p.series.map((s) => (
                  <th key={s.label} scope="col">
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {p.x.map((t, i) => (
                <tr key={t}>
                  <th scope="row">{p.xName(t)}</th>
                  {p.series.map((s) => {
                    const v = s.values[i];
                    return <td key={s.label}>{v === null || v === undefined ? '—' : p.format(v)}</td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </div>
    </figure>
  );
}
