// Durations as gantry.yaml and the CLI write them, without zod (the CLI's fast paths import this).

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const PART = /\s*(\d+(?:\.\d+)?|\.\d+)(ms|h|m|s)\s*/y;
const BARE_SECONDS = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*$/;

/**
 * Converts a duration to whole milliseconds. Strings combine a number and a unit
 * (`ms`, `s`, `m`, `h`), several of them in a row; a plain number means seconds.
 * Throws a RangeError that says what was expected when the input is not a duration.
 *
 * @example
 * parseDuration('1h30m'); // 5_400_000
 * parseDuration(30); // 30_000
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) {
      throw new RangeError(`${input} is not a duration: expected a number of seconds ≥ 0`);
    }
    return Math.round(input * 1000);
  }
  const bare = BARE_SECONDS.exec(input);
  if (bare) return Math.round(Number(bare[1]) * 1000);
  let total = 0;
  let matched = 0;
  PART.lastIndex = 0;
  for (let m = PART.exec(input); m; m = PART.exec(input)) {
    total += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
    matched = PART.lastIndex;
  }
  if (matched === 0 || matched !== input.length) {
    throw new RangeError(
      `${JSON.stringify(input)} is not a duration: use a number and a unit (ms, s, m, h), e.g. "30s", "10m" or "1h30m"`,
    );
  }
  return Math.round(total);
}

/**
 * Writes milliseconds in the shortest form {@link parseDuration} reads back.
 *
 * @example
 * formatDuration(5_400_000); // '1h30m'
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const unit of ['h', 'm', 's', 'ms'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * UNIT_MS[unit];
  }
  return out;
}
