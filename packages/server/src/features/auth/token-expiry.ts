import { InvalidInput } from '../../errors.js';

const UNITS: Record<string, number> = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};

/** When a token made now ends: `90d`, `12h`, `30m`, `2w`, `1y`, or a date/time (ISO 8601); null for never. */
export function expiryOf(input: string | undefined, now = Date.now()): string | null {
  if (input === undefined || input === 'never') return null;
  const m = /^(\d{1,5})([mhdwy])$/.exec(input.trim());
  const at = m ? now + Number(m[1]) * (UNITS[m[2] as string] as number) : Date.parse(input);
  if (!Number.isFinite(at))
    throw new InvalidInput(
      `expires: "${input}" is not a lifetime or a date: give e.g. 90d, 12h, 2w, 1y, an ISO date, or never`,
      {
        field: 'expires',
      },
    );
  if (at <= now)
    throw new InvalidInput(`expires: ${new Date(at).toISOString()} has passed; give a time ahead`, {
      field: 'expires',
    });
  return new Date(at).toISOString();
}
