import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

const KEEP_ALIVE_MS = 15_000;

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

/**
 * Streams that `closeAll` ends when the server shuts down, so that `http.close()` does not wait for
 * clients that would never hang up.
 */
export class EventStreams {
  private readonly open = new Set<ServerResponse>();

  /** Takes over the reply and answers with a server-sent event stream with keep-alive comments. */
  start(reply: FastifyReply, headers: Record<string, string> = {}): EventStream {
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
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    res.on('close', () => {
      clearInterval(keepAlive);
      this.open.delete(res);
      ac.abort();
    });
    return {
      send: (event, data, id) => {
        if (!res.writableEnded)
          res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`);
      },
      retry: (ms) => {
        if (!res.writableEnded) res.write(`retry: ${ms}\n\n`);
      },
      comment: (text) => {
        if (!res.writableEnded) res.write(`: ${text}\n\n`);
      },
      onClose: (fn) => ac.signal.addEventListener('abort', fn, { once: true }),
      get closed() {
        return res.writableEnded || ac.signal.aborted;
      },
      signal: ac.signal,
    };
  }

  closeAll(): void {
    for (const res of this.open) res.end();
  }
}
