/** No wait between two attempts is longer than this, however many failed before. */
export const MAX_RETRY_DELAY_MS = 3_600_000;

/**
 * How long to wait after failed attempt `n` (1 for the first): `base × 2^(n-1)`, capped at an hour,
 * of which a random half is taken off ("equal jitter"), so receivers coming back up are not hit by
 * every sender at once, while the wait still grows.
 *
 * @example
 * retryDelay(3, 10_000, () => 1); // 40_000
 * retryDelay(3, 10_000, () => 0); // 20_000
 */
export function retryDelay(n: number, baseMs: number, random: () => number = Math.random): number {
  const full = Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.max(0, n - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

/**
 * A receiver's own `Retry-After` (seconds or an HTTP date), in milliseconds from `now`, capped at an
 * hour; undefined when absent or unreadable.
 */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_RETRY_DELAY_MS) : undefined;
}
