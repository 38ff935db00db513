import { readFileSync } from 'node:fs';
import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TrafficReport } from '@gantry/driver-api';
import { writeJsonAtomic } from './env-state.js';
import { TrafficRecorder } from './traffic-recorder.js';

export interface Upstream {
  port: number;
  sha: string;
}

export interface ProxyState {
  pid: number;
  port: number;
  upstream: Upstream | null;
  /** Requests being forwarded now, per upstream; a drained upstream has none. */
  inflight: Array<Upstream & { count: number }>;
}

interface Route {
  upstream: Upstream;
  agent: Agent;
  count: number;
}

/** One request as the traffic recorder sees it. */
interface Exchange {
  startedAt: number;
  /** performance.now() when the response's headers went out; 0 until then. */
  headersAt: number;
  /** The upstream failed after the headers went out: the client got a cut-off answer. */
  broken: boolean;
}

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Forwards HTTP on the environment's stable port to the current upstream. A switch only changes
 * where new requests go: each request keeps the upstream it started with, so requests in flight
 * finish on the old release.
 */
export class ReverseProxy {
  private current: Route | null = null;
  private readonly routes = new Map<string, Route>();
  /** The highest fencing token a switch carried (see DriverContext.fence); 0 before any. */
  private fence = 0;

  constructor(
    private readonly stateFile: string,
    private readonly recorder = new TrafficRecorder(),
  ) {
    const saved = readSaved(stateFile);
    if (saved.upstream) this.current = this.route(saved.upstream);
    this.fence = saved.fence;
  }

  state(port: number): ProxyState {
    const inflight = [...this.routes.values()].map((r) => ({ ...r.upstream, count: r.count }));
    return { pid: process.pid, port, upstream: this.current?.upstream ?? null, inflight };
  }

  /** Requests answered since `sinceMs`, per upstream SHA (see TrafficRecorder). */
  traffic(sinceMs: number): TrafficReport {
    return this.recorder.report(sinceMs);
  }

  /** Persisted before it takes effect, so a restarted proxy resumes the newest upstream. */
  async switchTo(upstream: Upstream, fence?: number): Promise<void> {
    if (fence !== undefined && fence < this.fence) throw new StaleFence(fence, this.fence);
    if (fence !== undefined) this.fence = fence;
    await writeJsonAtomic(this.stateFile, { upstream, fence: this.fence });
    const previous = this.current;
    this.current = this.route(upstream);
    if (previous && previous !== this.current) this.release(previous);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const route = this.current;
    if (!route) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('no release serves this environment yet\n');
      return;
    }
    route.count++;
    const exchange: Exchange = { startedAt: performance.now(), headersAt: 0, broken: false };
    res.once('close', () => {
      route.count--;
      this.release(route);
      this.recordEnd(route.upstream.sha, res, exchange);
    });
    this.forward(req, res, route, exchange, true);
  }

  /**
   * A 5xx (the proxy's own 502 included) or a cut-off answer is an error. A client that left before
   * any answer is not (nothing says the release failed), but its wait counts as the latency, a lower
   * bound: a release so slow that clients give up still shows as slow.
   */
  private recordEnd(sha: string, res: ServerResponse, exchange: Exchange): void {
    const answered = exchange.headersAt > 0;
    const latencyMs = (answered ? exchange.headersAt : performance.now()) - exchange.startedAt;
    this.recorder.record(sha, latencyMs, exchange.broken || (answered && res.statusCode >= 500));
  }

  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    exchange: Exchange,
    mayRetry: boolean,
  ): void {
    const hasBody = bodyDeclared(req.headers);
    const retryable = mayRetry && !hasBody && IDEMPOTENT.has(req.method ?? '');
    const upstreamReq = request({
      host: '127.0.0.1',
      port: route.upstream.port,
      method: req.method,
      path: req.url,
      headers: forwardHeaders(req),
      agent: route.agent,
    });
    upstreamReq.on('response', (upstreamRes) => {
      exchange.headersAt = performance.now();
      res.writeHead(upstreamRes.statusCode ?? 502, stripHopByHop(upstreamRes.headers));
      upstreamRes.pipe(res);
      upstreamRes.on('error', () => {
        exchange.broken = true;
        res.destroy();
      });
    });
    upstreamReq.on('error', (err: NodeJS.ErrnoException) => {
      // A kept-alive socket the upstream closed just as we reused it: the request never reached the
      // app, so sending it again on a new connection is safe for a body-less idempotent request.
      if (retryable && upstreamReq.reusedSocket && err.code === 'ECONNRESET' && !res.headersSent) {
        return this.forward(req, res, route, exchange, false);
      }
      if (res.headersSent) {
        exchange.broken = true;
        return void res.destroy();
      }
      exchange.headersAt = performance.now();
      res
        .writeHead(502, { 'content-type': 'text/plain' })
        .end(`upstream ${route.upstream.sha}: ${err.message}\n`);
    });
    res.once('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    if (hasBody) req.pipe(upstreamReq);
    else upstreamReq.end();
  }

  private route(upstream: Upstream): Route {
    const key = `${upstream.port}/${upstream.sha}`;
    let route = this.routes.get(key);
    if (!route) {
      // Shorter than Node's 5 s server keep-alive, so idle sockets are dropped before the app drops them.
      const agent = new Agent({ keepAlive: true, timeout: 4_000 });
      route = { upstream, agent, count: 0 };
      this.routes.set(key, route);
    }
    return route;
  }

  /** A drained route that no longer serves closes its idle connections. */
  private release(route: Route): void {
    if (route === this.current || route.count > 0) return;
    route.agent.destroy();
    this.routes.delete(`${route.upstream.port}/${route.upstream.sha}`);
  }
}

export function listen(server: Server, target: number | string, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? (addr as AddressInfo).port : 0);
    };
    if (typeof target === 'number') server.listen(target, host, done);
    else server.listen(target, done);
  });
}

export function createProxyServer(proxy: ReverseProxy): Server {
  const server = createServer((req, res) => proxy.handle(req, res));
  // Clients keep connections longer than the app would; the proxy must not be the side that races.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}

function readSaved(file: string): { upstream: Upstream | null; fence: number } {
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { upstream?: Upstream | null; fence?: number };
    return { upstream: saved.upstream ?? null, fence: Number.isInteger(saved.fence) ? saved.fence! : 0 };
  } catch {
    return { upstream: null, fence: 0 };
  }
}

/** A switch whose fencing token is lower than one the proxy has seen: a newer deployment holds the environment. */
export class StaleFence extends Error {
  constructor(
    readonly fence: number,
    readonly current: number,
  ) {
    super(`a newer deployment holds the environment (fence ${fence} < ${current})`);
  }
}

function bodyDeclared(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined;
}

function stripHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.includes(name) && !named.includes(name)) out[name] = value;
  }
  return out;
}

function forwardHeaders(req: IncomingMessage): IncomingHttpHeaders {
  const headers = stripHopByHop(req.headers);
  const prior = req.headers['x-forwarded-for'];
  const client = req.socket.remoteAddress ?? '';
  headers['x-forwarded-for'] = prior ? `${prior}, ${client}` : client;
  headers['x-forwarded-proto'] ??= 'http';
  if (req.headers.host) headers['x-forwarded-host'] ??= req.headers.host;
  return headers;
}
