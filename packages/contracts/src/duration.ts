import { z } from 'zod';
import { formatDuration, parseDuration } from './duration-text.js';

export { formatDuration, parseDuration };

/** A timeout in gantry.yaml: a duration string or seconds in, positive milliseconds out. */
export const durationSchema = z
  .union([z.string(), z.number()])
  .describe('a duration such as "30s", "10m" or "1h30m", or a number of seconds')
  .transform((value, ctx) => {
    try {
      const ms = parseDuration(value);
      if (ms > 0) return ms;
      ctx.addIssue({
        code: 'custom',
        input: value,
        message: `expected a duration longer than 0, got ${value}`,
      });
    } catch (error) {
      ctx.addIssue({ code: 'custom', input: value, message: (error as Error).message });
    }
    return z.NEVER;
  });

/**
 * A {@link durationSchema} with an upper bound, so a timer never overflows (Node's setTimeout
 * fires at once past 2^31-1 ms, about 24.8 days) and a typo such as 300h is caught.
 */
export function boundedDurationSchema(maxMs: number, what: string) {
  return durationSchema.refine((ms) => ms <= maxMs, {
    error: (iss) =>
      `${what} of ${formatDuration(iss.input as number)} is too long: the most is ${formatDuration(maxMs)}`,
  });
}
