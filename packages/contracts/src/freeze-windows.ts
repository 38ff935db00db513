import { Cron } from 'croner';
import { z } from 'zod';
import { boundedDurationSchema, formatDuration } from './duration.js';

/**
 * Freeze windows (`environments.<env>.freeze`): times when no new change reaches the environment.
 * Recurring windows are a cron expression in a time zone with a duration; others are two dates.
 * Pure logic, used by the gantry.yaml schema (to check a window) and by the server (to refuse).
 *
 * @example
 * const weekend = { cron: '0 16 * * FRI', duration: 64 * 3_600_000, tz: 'Europe/Berlin', reason: 'weekend' };
 * activeFreeze([weekend], new Date('2026-03-28T12:00:00Z'))?.endsAt; // '2026-03-30T06:00:00Z' (Monday 08:00 in Berlin)
 */
export interface FreezeWindow {
  /** Five fields (minute hour day-of-month month day-of-week), read in `tz`. */
  cron?: string;
  /** With `cron`: how long each window lasts, in milliseconds, counted on the wall clock of `tz`. */
  duration?: number;
  /** IANA time zone of the cron expression and of dates written without an offset; default UTC. */
  tz?: string;
  /** A date range: from (inclusive) … to (exclusive), ISO 8601. */
  from?: string;
  to?: string;
  reason: string;
}

/** A freeze window in force: which one, since and until when (ISO 8601 UTC), and why. */
export interface ActiveFreeze {
  /** Its place in the environment's `freeze` list. */
  index: number;
  window: FreezeWindow;
  startedAt: string;
  endsAt: string;
  reason: string;
}

/** A freeze window may last a year at most (a typo such as 6400h is caught). */
const MAX_FREEZE_MS = 366 * 24 * 3_600_000;

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

function zoneFormat(tz: string): Intl.DateTimeFormat {
  let f = zoneFormats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    zoneFormats.set(tz, f);
  }
  return f;
}

/** Why `tz` is not a time zone, or null. */
export function timeZoneProblem(tz: string): string | null {
  try {
    zoneFormat(tz);
    return null;
  } catch {
    return `unknown time zone ${JSON.stringify(tz)}: use an IANA name such as Europe/Berlin, America/New_York or UTC`;
  }
}

/** Why `cron` is not a five-field cron expression that ever matches, or null. */
export function cronProblem(cron: string): string | null {
  try {
    const job = new Cron(cron, { mode: '5-part', timezone: 'UTC' });
    if (!job.nextRun(new Date(0))) return `${JSON.stringify(cron)} never matches a time`;
    return null;
  } catch (error) {
    const why = (error as Error).message.replace(/^Cron\w*:\s*/, '');
    return `${JSON.stringify(cron)} is not a cron expression (${why}); use five fields, minute hour day-of-month month day-of-week, e.g. "0 16 * * FRI"`;
  }
}

/** The wall-clock time of an instant in `tz`, as milliseconds of a UTC date with the same fields. */
function wallClock(ms: number, tz: string): number {
  const parts: Record<string, number> = {};
  for (const p of zoneFormat(tz).formatToParts(new Date(ms))) parts[p.type] = Number(p.value);
  const { year, month, day, hour, minute, second } = parts as Record<string, number>;
  return Date.UTC(year!, month! - 1, day!, hour!, minute!, second!) + (ms % 1000);
}

/**
 * The instant at which the clocks of `tz` show `wall` (a UTC date holding the local fields). A time
 * the clocks skip (spring forward) is read with the offset after the change, so it moves later.
 */
function instantOf(wall: number, tz: string): number {
  const first = wall - (wallClock(wall, tz) - wall);
  return wall - (wallClock(first, tz) - first);
}

const DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** A date of a range as an instant (ms), or why it is not one. Without an offset it is read in `tz`. */
export function freezeDate(text: string, tz = 'UTC'): number | string {
  const m = DATE.exec(text.trim());
  const wrong = `${JSON.stringify(text)} is not a date: use ISO 8601, e.g. 2026-12-24, 2026-12-24T18:00 or 2026-12-24T00:00:00Z`;
  if (!m) return wrong;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  const wall = Date.UTC(...fields) + Math.round(Number(frac || 0) * 1000);
  const back = new Date(wall);
  if (
    back.getUTCMonth() !== fields[1] ||
    back.getUTCDate() !== fields[2] ||
    fields[3] > 23 ||
    fields[4] > 59 ||
    fields[5] > 59
  )
    return wrong;
  if (!zone) return instantOf(wall, tz);
  if (zone.toUpperCase() === 'Z') return wall;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offset = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0)) * 60_000;
  return wall - sign * offset;
}

const reasonSchema = z
  .string()
  .trim()
  .min(1, { error: 'a freeze window needs a reason (shown to whoever is refused), e.g. reason: weekend' })
  .max(500);

/** A date range's end: `to`, or `until` (the same). */
function rangeEnd(w: { to?: string; until?: string }): string | undefined {
  return w.to ?? w.until;
}

export const freezeWindowSchema = z
  .strictObject({
    cron: z.string().describe('a recurring window: when it starts, e.g. "0 16 * * FRI"').optional(),
    duration: boundedDurationSchema(MAX_FREEZE_MS, 'a freeze window')
      .describe('with cron: how long each window lasts, e.g. 64h')
      .optional(),
    tz: z
      .string()
      .describe('the IANA time zone of cron and of dates without an offset, e.g. Europe/Berlin (default UTC)')
      .optional(),
    from: z.string().describe('a date range: its start, e.g. 2026-12-24T00:00:00Z').optional(),
    to: z.string().describe('a date range: its end (exclusive), e.g. 2027-01-02T00:00:00Z').optional(),
    until: z.string().describe("the same as to: a date range's end (exclusive)").optional(),
    reason: reasonSchema.describe('why, e.g. weekend'),
  })
  .superRefine((w, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    const tzWrong = w.tz === undefined ? null : timeZoneProblem(w.tz);
    if (tzWrong) issue(['tz'], tzWrong);
    if (w.to !== undefined && w.until !== undefined) {
      issue(['until'], 'until is another name for to: give one of them');
      return;
    }
    const end = rangeEnd(w);
    const dates = w.from !== undefined || end !== undefined;
    if (w.cron !== undefined && dates) {
      issue(
        [],
        'a freeze window is either recurring (cron and duration) or a date range (from and to), not both',
      );
      return;
    }
    if (w.cron !== undefined) {
      const wrong = cronProblem(w.cron);
      if (wrong) issue(['cron'], wrong);
      if (w.duration === undefined)
        issue([], 'a recurring freeze window needs a duration, e.g. { cron: "0 16 * * FRI", duration: 64h }');
      return;
    }
    if (w.duration !== undefined)
      issue(['duration'], 'duration goes with cron; a date range has from and to');
    if (!dates) {
      issue(
        [],
        'a freeze window needs cron and duration (recurring) or from and to (dates), e.g. { cron: "0 16 * * FRI", duration: 64h, tz: Europe/Berlin, reason: weekend }',
      );
      return;
    }
    if (w.from === undefined || end === undefined) {
      issue([], `a date range needs both from and to; ${w.from === undefined ? 'from' : 'to'} is missing`);
      return;
    }
    if (tzWrong) return;
    const key = w.until !== undefined ? 'until' : 'to';
    const from = freezeDate(w.from, w.tz);
    const to = freezeDate(end, w.tz);
    if (typeof from === 'string') issue(['from'], from);
    if (typeof to === 'string') issue([key], to);
    if (typeof from === 'number' && typeof to === 'number' && to <= from)
      issue([key], `${key} (${end}) is not after from (${w.from}); a freeze window ends after it starts`);
  });

export const freezeWindowsSchema = z
  .array(freezeWindowSchema)
  .max(100)
  .describe(
    'times when no new change reaches this environment (rollbacks still do), e.g. [{ cron: "0 16 * * FRI", duration: 64h, tz: Europe/Berlin, reason: weekend }]',
  );

/** When the window that contains `now` started and ends, or null when it is not in force. */
function spanAt(w: FreezeWindow, now: number): { start: number; end: number } | null {
  const tz = w.tz ?? 'UTC';
  if (w.cron === undefined) {
    const end = rangeEnd(w);
    if (w.from === undefined || end === undefined) return null;
    const from = freezeDate(w.from, tz);
    const to = freezeDate(end, tz);
    if (typeof from !== 'number' || typeof to !== 'number') return null;
    return from <= now && now < to ? { start: from, end: to } : null;
  }
  const duration = w.duration ?? 0;
  const job = new Cron(w.cron, { mode: '5-part', timezone: tz });
  // previousRuns looks strictly before its reference (whole seconds): a start at `now` counts.
  const [last] = job.previousRuns(1, new Date(Math.floor(now / 1000) * 1000 + 1000));
  if (!last) return null;
  const endOf = (start: number) => instantOf(wallClock(start, tz) + duration, tz);
  let end = endOf(last.getTime());
  if (end <= now) return null;
  // Windows longer than the time between starts run into each other: the freeze lasts until the last one ends.
  for (let at = last, i = 0; i < 100; i++) {
    const next = job.nextRun(at);
    if (!next || next.getTime() >= end) break;
    end = Math.max(end, endOf(next.getTime()));
    at = next;
  }
  return { start: last.getTime(), end };
}

/**
 * The freeze in force at `now`: of the windows that contain it, the one that ends last, or null.
 * A recurring window is in force when its last start at or before `now`, plus its duration on the
 * wall clock of its time zone, is after `now`: "0 16 * * FRI" for 64h ends Monday 08:00 local time,
 * also on the weekends the clocks change (it then lasts 63 or 65 hours).
 */
export function activeFreeze(windows: readonly FreezeWindow[], now: Date = new Date()): ActiveFreeze | null {
  let found: ActiveFreeze | null = null;
  for (const [index, window] of windows.entries()) {
    const span = spanAt(window, now.getTime());
    if (!span || (found && Date.parse(found.endsAt) >= span.end)) continue;
    found = {
      index,
      window,
      startedAt: isoSeconds(span.start),
      endsAt: isoSeconds(span.end),
      reason: window.reason,
    };
  }
  return found;
}

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

/** The window as written: `"0 16 * * FRI" for 64h (Europe/Berlin)` or `2026-12-24T00:00:00Z → 2027-01-02T00:00:00Z`. */
export function freezeWindowText(w: FreezeWindow): string {
  const tz = w.tz ? ` (${w.tz})` : '';
  if (w.cron !== undefined) return `"${w.cron}" for ${formatDuration(w.duration ?? 0)}${tz}`;
  return `${w.from} → ${rangeEnd(w)}${tz}`;
}

/** An instant as the clocks of `tz` show it, e.g. "Mon 30 Mar 2026 08:00 Europe/Berlin". */
export function localTimeText(iso: string, tz = 'UTC'): string {
  const text = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(iso));
  return `${text.replace(/,/g, '')} ${tz}`;
}

/**
 * Why a change to `env` is refused now: the window, its time zone, when it ends and its reason.
 *
 * @example
 * freezeRefusal('production', active);
 * // '"production" is frozen until 2026-03-30T06:00:00Z (Mon 30 Mar 2026 08:00 Europe/Berlin) by the freeze window "0 16 * * FRI" for 64h (Europe/Berlin): weekend. …'
 */
export function freezeRefusal(env: string, f: ActiveFreeze): string {
  return (
    `"${env}" is frozen until ${f.endsAt} (${localTimeText(f.endsAt, f.window.tz)}) by the freeze window ` +
    `${freezeWindowText(f.window)}: ${f.reason}. Rollbacks still run; an admin can override with ` +
    '`gantry deploy … --override --reason "<why>"` (recorded)'
  );
}
