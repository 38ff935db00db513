import type { RetentionPolicy } from '@gantry/contracts';
import { InvalidInput } from '../../errors.js';

/** The server's defaults: the newest 10 artifacts of each app, and anything younger than 14 days. */
export const DEFAULT_KEEP_PER_APP = 10;
export const DEFAULT_MAX_AGE_MS = 14 * 86_400_000;

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `14d`, `12h`, `90m`, `45s` (as GANTRY_ARTIFACTS_MAX_AGE and `gantry gc --max-age` take it), in ms. */
export function parseAge(input: string): number {
  const m = /^(\d+)([smhd])$/.exec(input.trim());
  if (!m)
    throw new InvalidInput(`max age "${input}": expected a whole number and a unit (s, m, h, d), e.g. 14d`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** The largest unit that divides `ms` exactly: 1209600000 → `14d`, 0 → `0s`. */
export function formatAge(ms: number): string {
  if (ms === 0) return '0s';
  for (const unit of ['d', 'h', 'm', 's']) {
    const size = UNIT_MS[unit]!;
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.ceil(ms / 1000)}s`;
}

export function retentionPolicy(p: {
  keepPerApp: number;
  maxAgeMs: number;
  scheduled: boolean;
}): RetentionPolicy {
  return {
    keepPerApp: p.keepPerApp,
    maxAgeMs: p.maxAgeMs,
    maxAge: formatAge(p.maxAgeMs),
    scheduled: p.scheduled,
  };
}

/** The server's policy with a run's own `keepPerApp` / `maxAge` (an admin trying a stricter one). */
export function withOverrides(
  policy: RetentionPolicy,
  o: { keepPerApp?: number; maxAge?: string },
): RetentionPolicy {
  return retentionPolicy({
    keepPerApp: o.keepPerApp ?? policy.keepPerApp,
    maxAgeMs: o.maxAge === undefined ? policy.maxAgeMs : parseAge(o.maxAge),
    scheduled: policy.scheduled,
  });
}
