const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const trimZero = (s: string) => s.replace(/\.0$/, '');

/**
 * Milliseconds for people (reports and tables; `formatDuration` writes gantry.yaml's form): "350 ms", "4.2 s", "3 min", "5.1 h", "2.3 d" (one decimal under 10, whole
 * numbers from 10). A value that rounds up to the next unit moves to it ("60 s" → "1 min").
 * Negative values get a minus sign; null and non-finite values give "—".
 */
export function humanDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 0) return `−${humanDuration(-ms)}`;
  const units: [size: number, name: string, limit: number][] = [
    [1, 'ms', 1000],
    [SECOND, 's', 60],
    [MINUTE, 'min', 60],
    [HOUR, 'h', 24],
    [DAY, 'd', Number.POSITIVE_INFINITY],
  ];
  for (const [size, name, limit] of units) {
    const v = ms / size;
    const text = size > 1 && v < 9.95 ? trimZero(v.toFixed(1)) : String(Math.round(v));
    if (Number(text) < limit) return `${text} ${name}`;
  }
  return `${Math.round(ms / DAY)} d`;
}

/**
 * A rate for people, the one convention of the CLI and the report: per day from one a day, else per
 * week ("2.5/day", "1.3/week"; one decimal under 10, whole numbers from 10). `perDay` is the API's unit.
 */
export function humanRate(perDay: number | null | undefined): string {
  if (perDay === null || perDay === undefined || !Number.isFinite(perDay)) return '—';
  if (perDay < 0) return `−${humanRate(-perDay)}`;
  const [v, unit] = perDay >= 1 ? [perDay, 'day'] : [perDay * 7, 'week'];
  const text = v < 9.95 ? trimZero(v.toFixed(1)) : String(Math.round(v));
  return `${text}/${unit}`;
}

/** Deployment days in the median week, as the CLI and the report show them: "3 days/week", "1 day/week". */
export function humanDaysPerWeek(days: number | null | undefined): string {
  if (days === null || days === undefined || !Number.isFinite(days)) return '—';
  const text = trimZero(days.toFixed(1));
  return `${text} ${text === '1' ? 'day' : 'days'}/week`;
}
