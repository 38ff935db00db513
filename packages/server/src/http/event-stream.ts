import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

const KEEP_ALIVE_MS = 15_000;
/** How soon a refused client may try again (seconds). */
const RETRY_AFTER_S = 5;

export interface EventStream {
  /** Writes one server-sent event. */
  send(event: string, data: string, id?: number): void;
  comment(text: string): void;
  /** Tells EventSource clients how soon to reconnect. */
  retry(ms: number): void;
  /** Runs once when the client goes away or the server closes the stream. */
  onClose(fn: () => void): void;
  readonly closed: boolean;
  readonly signal: AbortSignal;
}

export interface EventStreamLimits {
  /** Open streams one token (or, without one, one address) may hold; past it 429. */
  maxPerToken: number;
  /** Open streams in all; past it 503. */
  maxTotal: number;
  /** Bytes a stream may have waiting to be sent; past it the client is too slow and is dropped. */
  maxBufferedBytes: number;
}

export const DEFAULT_STREAM_LIMITS: EventStreamLimits = {
  maxPerToken: 16,
  maxTotal: 1000,
  maxBufferedBytes: 1024 ** 2,
};

export interface EventStreamStats {
  open: number;
  /** Streams dropped because their client stopped reading. */
  dropped: number;
  /** The most bytes any stream had waiting in the server, as measured after each write. */
  maxBuffered: number;
}

/**
 * Every server-sent event stream of the server (events, Unleash streaming, OFREP): one cap per
 * token and one in total, and a bound on what a slow client can make the server buffer.
 * `closeAll` ends them when the server shuts down, so that `http.close()` does not wait for
 * clients that would never hang up.
 */
export class EventStreams {
  private readonly open = new Set<ServerResponse>();
  /** Whose each stream is: a revoked token or a person signed out everywhere loses theirs at once. */
  private readonly owners = new Map<ServerResponse, { tokenId: string | null; userId: string | null }>();
  private readonly perToken = new Map<string, number>();
  private dropped = 0;
  private maxBuffered = 0;

  constructor(private readonly limits: EventStreamLimits = DEFAULT_STREAM_LIMITS) {}

  stats(): EventStreamStats {
    return { open: this.open.size, dropped: this.dropped, maxBuffered: this.maxBuffered };
  }

  /**
   * Takes over the reply and answers with a server-sent event stream with keep-alive comments; or,
   * past a cap, answers 429 (this token) or 503 (the server) with a reason and Retry-After and
   * returns undefined.
   */
  start(
    req: FastifyRequest,
    reply: FastifyReply,
    headers: Record<string, string> = {},
  ): EventStream | undefined {
    const p = req.principal;
    const key = p ? (p.tokenId ? `token:${p.tokenId}` : `user:${p.userId}`) : `ip:${req.ip}`;
    const mine = this.perToken.get(key) ?? 0;
    if (mine >= this.limits.maxPerToken) {
      void reply
        .status(429)
        .header('retry-after', String(RETRY_AFTER_S))
        .send({
          error: 'TooManyStreams',
          message: `this token already has ${mine} open event streams, the most one token may hold (GANTRY_SSE_MAX_PER_TOKEN=${this.limits.maxPerToken}); close one, or use another token`,
        });
      return undefined;
    }
    if (this.open.size >= this.limits.maxTotal) {
      void reply
        .status(503)
        .header('retry-after', String(RETRY_AFTER_S))
        .send({
          error: 'Unavailable',
          message: `the server has ${this.open.size} open event streams, its limit (GANTRY_SSE_MAX_TOTAL=${this.limits.maxTotal}); try again later`,
        });
      return undefined;
    }

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...headers,
    });
    const ac = new AbortController();
    this.open.add(res);
    this.owners.set(res, { tokenId: p?.tokenId ?? null, userId: p?.userId ?? null });
    this.perToken.set(key, mine + 1);
    const write = (chunk: string) => {
      if (res.writableEnded || res.destroyed) return;
      res.write(chunk);
      // write() queues whatever the socket does not take; a client that stops reading would make
      // that queue grow without end, so past the mark the stream is dropped (it can resume with
      // Last-Event-ID once it reads again).
      const buffered = res.writableLength;
      if (buffered > this.maxBuffered) this.maxBuffered = buffered;
      if (buffered > this.limits.maxBufferedBytes) {
        this.dropped++;
        req.log.warn(
          { buffered, limit: this.limits.maxBufferedBytes },
          'event stream dropped: its client does not read what is sent (GANTRY_SSE_MAX_BUFFER)',
        );
        res.destroy();
      }
    };
    const keepAlive = setInterval(() => write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    // A token or session that expires while its stream is open loses the stream then, as its next request would fail.
    const left = p?.expiresAt ? p.expiresAt - Date.now() : null;
    const expiry =
      left !== null && left < 2 ** 31 - 1 ? setTimeout(() => res.end(), Math.max(0, left)) : undefined;
    res.on('close', () => {
      clearInterval(keepAlive);
      if (expiry) clearTimeout(expiry);
      this.owners.delete(res);
      if (this.open.delete(res)) {
        const n = (this.perToken.get(key) ?? 1) - 1;
        if (n > 0) this.perToken.set(key, n);
        else this.perToken.delete(key);
      }
      ac.abort();
    });
    return {
      send: (event, data, id) =>
        write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`),
      retry: (ms) => write(`retry: ${ms}\n\n`),
      comment: (text) => write(`: ${text}\n\n`),
      onClose: (fn) => ac.signal.addEventListener('abort', fn, { once: true }),
      get closed() {
        return res.writableEnded || res.destroyed || ac.signal.aborted;
      },
      signal: ac.signal,
    };
  }

  /** Ends the streams of revoked tokens, or of a person whose sessions ended; returns how many. */
  closeFor(who: { tokenIds?: readonly string[]; userId?: string }): number {
    let n = 0;
    for (const [res, owner] of this.owners) {
      const byToken = owner.tokenId !== null && who.tokenIds?.includes(owner.tokenId);
      const byUser = who.userId !== undefined && owner.userId === who.userId;
      if (byToken || byUser) {
        res.end();
        n++;
      }
    }
    return n;
  }

  closeAll(): void {
    for (const res of this.open) res.end();
  }
}
