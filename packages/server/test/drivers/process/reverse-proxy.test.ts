import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxyServer, listen, ReverseProxy } from '../../../src/drivers/process/reverse-proxy.js';
import { freePort } from './process-fixtures.js';

let dir: string;
const servers: Server[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gantry-proxy-'));
});
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  await rm(dir, { recursive: true, force: true });
});

async function serve(
  handler: Parameters<typeof createServer>[1],
  server = createServer(handler),
): Promise<number> {
  servers.push(server);
  return listen(server, 0);
}

function send(port: number, method: string, path: string, body?: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, agent: false }, async (res) => {
        let text = '';
        for await (const chunk of res) text += chunk;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      });
      req.on('error', reject);
      if (body) {
        req.setHeader('transfer-encoding', 'chunked');
        req.write(body.slice(0, 3));
        setTimeout(() => req.end(body.slice(3)), 20);
      } else req.end();
    },
  );
}

describe('ReverseProxy', () => {
  it('answers 503 before any release serves, streams bodies both ways, then resumes after a restart', async () => {
    const upstream = await serve(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.write(`${req.method} ${req.url} ${req.headers['x-forwarded-for']} `);
      setTimeout(() => res.end(`got:${body}`), 20);
    });
    const stateFile = join(dir, 'proxy.json');
    const proxy = new ReverseProxy(stateFile);
    const port = await serve(() => {}, createProxyServer(proxy));

    expect((await send(port, 'GET', '/')).status).toBe(503);
    await proxy.switchTo({ port: upstream, sha: 'abc' });
    const reply = await send(port, 'POST', '/orders?x=1', 'hello world');
    expect(reply).toMatchObject({ status: 200, body: 'POST /orders?x=1 127.0.0.1 got:hello world' });
    expect(reply.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(proxy.state(port)).toMatchObject({
      upstream: { port: upstream, sha: 'abc' },
      inflight: [{ count: 0 }],
    });

    const restarted = new ReverseProxy(stateFile);
    expect(restarted.state(port).upstream).toEqual({ port: upstream, sha: 'abc' });
  });

  it('answers 502 with the reason when the upstream is gone', async () => {
    const proxy = new ReverseProxy(join(dir, 'gone.json'));
    const port = await serve(() => {}, createProxyServer(proxy));
    await proxy.switchTo({ port: await freePort(), sha: 'dead' });
    const reply = await send(port, 'GET', '/');
    expect(reply.status).toBe(502);
    expect(reply.body).toMatch(/^upstream dead: connect ECONNREFUSED/);
  });

  it('keeps a request on the upstream it started with when a switch happens meanwhile', async () => {
    const slow = await serve((_req, res) => void setTimeout(() => res.end('old'), 200));
    const fast = await serve((_req, res) => res.end('new'));
    const proxy = new ReverseProxy(join(dir, 'switch.json'));
    const port = await serve(() => {}, createProxyServer(proxy));
    await proxy.switchTo({ port: slow, sha: 'old' });
    const inFlight = send(port, 'GET', '/');
    while (proxy.state(port).inflight.find((r) => r.sha === 'old')?.count !== 1) await tick();
    await proxy.switchTo({ port: fast, sha: 'new' });
    expect((await send(port, 'GET', '/')).body).toBe('new');
    expect((await inFlight).body).toBe('old');
    expect(proxy.state(port).inflight).toEqual([{ port: fast, sha: 'new', count: 0 }]);
  });
});

function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5));
}

describe('ReverseProxy traffic', () => {
  it('records each answer under the upstream that gave it: 5xx, its own 502 and cut-off answers are errors', async () => {
    const app = await serve((req, res) => {
      if (req.url === '/fail') return void res.writeHead(500).end('no');
      if (req.url === '/cut') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        return void setTimeout(() => res.socket?.destroy(), 20);
      }
      if (req.url === '/slow') return void setTimeout(() => res.end('slow'), 300);
      res.end('ok');
    });
    const proxy = new ReverseProxy(join(dir, 'traffic.json'));
    const port = await serve(() => {}, createProxyServer(proxy));
    const since = Date.now();

    expect((await send(port, 'GET', '/')).status).toBe(503); // no release: nobody to count it for
    await proxy.switchTo({ port: app, sha: 'one' });
    for (let i = 0; i < 6; i++) expect((await send(port, 'GET', '/')).status).toBe(200);
    expect((await send(port, 'GET', '/fail')).status).toBe(500);
    expect(await cutOff(port, '/cut')).toMatch(/aborted|socket hang up|ECONNRESET/);
    expect((await send(port, 'GET', '/slow')).body).toBe('slow');
    await proxy.switchTo({ port: await freePort(), sha: 'dead' });
    expect((await send(port, 'GET', '/')).status).toBe(502);
    expect((await send(port, 'POST', '/', 'body')).status).toBe(502);

    // A client that leaves before the answer: counted, not as an error, with what it waited.
    await proxy.switchTo({ port: app, sha: 'two' });
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/slow', agent: false });
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => req.destroy(), 100);
    });
    const report = await waitForReport(proxy, since, (r) => r.releases.some((s) => s.sha === 'two'));
    expect(report.releases.map((r) => [r.sha, r.requests, r.errors])).toEqual([
      ['one', 9, 2],
      ['dead', 2, 2],
      ['two', 1, 0],
    ]);
    const [one, , two] = report.releases;
    // One slow answer in nine is past the 95th percentile's rank: p95 is the slow one's time.
    expect(one!.p95Ms).toBeGreaterThanOrEqual(250);
    expect(two!.p95Ms).toBeGreaterThanOrEqual(80);
    expect(two!.p95Ms).toBeLessThan(one!.p95Ms!);
  });
});

async function waitForReport(
  proxy: ReverseProxy,
  since: number,
  done: (r: ReturnType<ReverseProxy['traffic']>) => boolean,
) {
  for (let i = 0; i < 400; i++) {
    const report = proxy.traffic(since);
    if (done(report)) return report;
    await tick();
  }
  return proxy.traffic(since);
}

/** A GET whose answer is expected to break off: what the client saw go wrong. */
function cutOff(port: number, path: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.on('error', (err) => resolve(err.message));
      res.on('end', () => resolve('complete'));
      res.resume();
    });
    req.on('error', (err) => resolve(err.message));
    req.end();
  });
}
