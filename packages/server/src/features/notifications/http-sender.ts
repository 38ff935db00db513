import type { OutboundRequest } from './channel.js';

/** How much of an answer is read: enough for a forge's JSON (GitHub's deployment is ~3 KiB). */
const READ_CAP = 64 * 1024;

export interface SendResult {
  /** The answer's status, or null when none came (refused, timed out, stopped). */
  status: number | null;
  /** The start of the answer's body, at most 64 KiB. */
  body: Buffer;
  ms: number;
  error: string | null;
  /** The answer's `Retry-After` header, as sent. */
  retryAfter?: string | null;
}

/**
 * Sends one request and reads the start of its answer, all within the request's timeout. Redirects
 * are not followed (a 3xx is a failed attempt): a receiver's address is what its owner registered.
 * Credentials in the URL go out as basic auth, which fetch requires.
 */
export async function sendRequest(req: OutboundRequest, stop?: AbortSignal): Promise<SendResult> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = stop ? AbortSignal.any([timeout, stop]) : timeout;
  const url = new URL(req.url);
  const headers: Record<string, string> = { ...req.headers };
  if (url.username || url.password) {
    const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.Authorization ??= `Basic ${Buffer.from(user).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const ms = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(url, { method: req.method, headers, body: req.body, redirect: 'manual', signal });
    const body = await readCapped(res);
    const ok = res.status >= 200 && res.status < 300;
    return {
      status: res.status,
      body,
      ms: ms(),
      error: ok ? null : `answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`,
      retryAfter: res.headers.get('retry-after'),
    };
  } catch (e) {
    const error = timeout.aborted
      ? `timed out after ${req.timeoutMs} ms`
      : stop?.aborted
        ? 'the server stopped during the attempt'
        : describe(e);
    return { status: null, body: Buffer.alloc(0), ms: ms(), error };
  }
}

async function readCapped(res: Response): Promise<Buffer> {
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
    if (total >= READ_CAP) {
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, READ_CAP);
}

const CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'the connection closed before an answer',
  UND_ERR_HEADERS_OVERFLOW: 'the answer headers are too large',
};

/** fetch says only "fetch failed"; the reason is in its cause. */
function describe(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code;
  if (code && CODES[code]) return `${CODES[code]} (${code})`;
  if (cause?.message) return cause.message;
  return e instanceof Error ? e.message : String(e);
}
