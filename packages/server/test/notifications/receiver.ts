import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';

export interface Received {
  method: string;
  /** Path and query, as requested. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The exact bytes received. */
  body: Buffer;
  json(): unknown;
}

/** How the receiver answers one request: a status (and body), or never (it hangs until closed). */
export type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface Receiver {
  url: string;
  port: number;
  requests: Received[];
  /** Sets how every next request is answered; `n` counts from 1 over the receiver's life. */
  answer(fn: (req: Received, n: number) => Answer): void;
  /** Resolves once `count` requests (matching `where`, if given) have arrived. */
  waitFor(count: number, where?: (r: Received) => boolean, ms?: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** A real HTTP receiver on a loopback port (0: any free one) that records what it gets. */
export async function startReceiver(port = 0): Promise<Receiver> {
  const requests: Received[] = [];
  const hanging = new Set<ServerResponse>();
  let answer: (req: Received, n: number) => Answer = () => ({ status: 200, body: 'ok' });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        json: () => JSON.parse(body.toString('utf8')),
      };
      requests.push(r);
      const a = answer(r, requests.length);
      if (a === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    requests,
    answer(fn) {
      answer = fn;
    },
    async waitFor(count, where = () => true, ms = 30_000) {
      const until = Date.now() + ms;
      for (;;) {
        const got = requests.filter(where);
        if (got.length >= count) return got;
        if (Date.now() > until)
          throw new Error(
            `the receiver got ${got.length} of ${count} requests in ${ms} ms: ${requests.map((r) => r.headers['x-gantry-event'] ?? r.url).join(', ')}`,
          );
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Checks Gantry's signature as a receiver would: over `<timestamp>.<exact body>`, in constant time. */
export function verifyGantrySignature(secret: string, r: Received): boolean {
  const timestamp = String(r.headers['x-gantry-timestamp'] ?? '');
  const given = String(r.headers['x-gantry-signature'] ?? '');
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(r.body).digest('hex')}`;
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}
