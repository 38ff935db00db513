/** Formatting and scales shared by the HTML report and its charts; pure. */
import { humanDuration as formatDuration } from '@gantry/contracts';
import type { Bucket } from './engine/index.js';

export { formatDuration };

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
export const esc = escapeHtml;

export const trimZero = (s: string) => s.replace(/\.0$/, '');

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
export function bucketTick(start: string | number, bucket: Bucket): string {
  const d = new Date(start);
  if (Number.isNaN(d.getTime())) return String(start);
  const month = MONTHS[d.getUTCMonth()]!;
  return bucket === 'month' ? `${month} ${d.getUTCFullYear()}` : `${month} ${d.getUTCDate()}`;
}

/** The bucket named in tooltips: "2024-01-08", "week of 2024-01-08", "2024-01". */
export function bucketName(start: string, bucket: Bucket): string {
  const day = formatTime(start).slice(0, 10);
  return bucket === 'week' ? `week of ${day}` : bucket === 'month' ? day.slice(0, 7) : day;
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

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

const TICK_UNITS: [size: number, name: string][] = [
  [DAY, 'd'],
  [HOUR, 'h'],
  [MINUTE, 'min'],
  [SECOND, 's'],
  [1, 'ms'],
];

/**
 * Labels of duration ticks in one unit, the largest that the step is a whole number of: "0 min",
 * "5 min", "10 min" (not "0 ms", "5 min"), "0 s", "30 s", "60 s", "90 s". Sub-second steps stay in ms.
 */
export function durationTickLabels(ticks: number[]): string[] {
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : (ticks[0] ?? 0);
  const [size, name] = TICK_UNITS.find(([size]) => step >= size && step % size === 0) ?? [1, 'ms'];
  return ticks.map((t) => `${Number((t / size).toPrecision(12))} ${name}`);
}

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
