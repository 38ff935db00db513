/**
 * How the metrics page writes numbers, in the conventions of `gantry metrics` and the HTML report
 * (durations and rates are @gantry/contracts' own, the module alone, without zod). Pure:
 * the e2e and unit tests use it to read the API's numbers as the page shows them.
 */

/** "350 ms", "4.2 s", "3 min", "5.1 h", "2.3 d"; "2.5/day", "1.3/week"; "3 days/week". */
export {
  humanDaysPerWeek as daysPerWeek,
  humanDuration as duration,
  humanRate as rate,
} from '@gantry/contracts/human-duration';

const DAY = 86_400_000;
const trimZero = (s: string) => s.replace(/\.0$/, '');
const missing = (v: number | null | undefined): v is null | undefined =>
  v === null || v === undefined || !Number.isFinite(v);

/** A share in [0, 1]: "25%", "33.3%"; null gives "—". */
export function percent(share: number | null | undefined): string {
  if (missing(share)) return '—';
  return `${trimZero((share * 100).toFixed(1))}%`;
}

/** Whole numbers as they are, others with up to two decimals. */
export function count(v: number | null | undefined): string {
  if (missing(v)) return '—';
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(2)));
}

/** "1 deployment", "3 deployments". */
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export type Bucket = 'day' | 'week' | 'month';

/** A bucket as the tables name it: "2026-01-08", "week of 2026-01-08", "2026-01". */
export function bucketName(start: string, bucket: Bucket): string {
  const day = start.slice(0, 10);
  return bucket === 'week' ? `week of ${day}` : bucket === 'month' ? day.slice(0, 7) : day;
}

/** The presets of the range picker, in days. */
export const RANGES = [7, 30, 90, 365] as const;

export interface Range {
  from: string;
  to: string;
  bucket: Bucket;
}

/** Buckets that make a readable chart: days up to a month, weeks up to half a year, else months. */
export function bucketFor(fromMs: number, toMs: number): Bucket {
  const days = (toMs - fromMs) / DAY;
  return days <= 31 ? 'day' : days <= 190 ? 'week' : 'month';
}

/**
 * The last `days` UTC days, today included: [today + 1 − days, tomorrow) at midnight UTC, so a
 * window stays the same all day (one cache entry, one URL) and its buckets are whole days.
 */
export function lastDays(days: number, now = Date.now()): Range {
  const to = Math.floor(now / DAY) * DAY + DAY;
  const from = to - days * DAY;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucket: bucketFor(from, to) };
}

/** A custom window from two dates (YYYY-MM-DD, both days included); null when not a window. */
export function customRange(fromDay: string, toDay: string): Range | null {
  const from = Date.parse(`${fromDay}T00:00:00Z`);
  const to = Date.parse(`${toDay}T00:00:00Z`) + DAY;
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) return null;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucket: bucketFor(from, to) };
}

/** The band as people read it; null (no data) gives "no band". */
export function bandLabel(band: string | null): string {
  return band ? band[0]!.toUpperCase() + band.slice(1) : 'No band';
}

/** Badge tone of a band: colour is never the only signal, the word is always written too. */
export function bandTone(band: string | null): 'ok' | 'info' | 'warn' | 'bad' | 'neutral' {
  return band === 'elite'
    ? 'ok'
    : band === 'high'
      ? 'info'
      : band === 'medium'
        ? 'warn'
        : band
          ? 'bad'
          : 'neutral';
}
