import { ApiError } from '../../api/client';

/** Seconds to wait from a 429's details (`retryAfterS`), or undefined when it does not say. */
export function retryAfterSeconds(details: unknown): number | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const s = (details as { retryAfterS?: unknown }).retryAfterS;
  return typeof s === 'number' && Number.isFinite(s) && s > 0 ? Math.ceil(s) : undefined;
}

/** "in 42 s", "in 3 min", "in 1 h 5 min": how long until a person may try again. */
export function waitWords(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m ? `${h} h ${m} min` : `${h} h`;
}

/**
 * What the sign-in page says about a failed sign-in: the server's own words, and for too many
 * failures (429) when to try again, as a clock time and a wait.
 */
export function signInFailure(error: unknown, now = Date.now()): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  if (error.status === 429) {
    const s = retryAfterSeconds(error.details);
    if (s === undefined) return `${error.message}. Wait a while before trying again.`;
    const at = new Date(now + s * 1000).toLocaleTimeString([], {
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    return `Too many failed sign-ins. Try again at ${at} (in ${waitWords(s)}).`;
  }
  return error.message;
}
