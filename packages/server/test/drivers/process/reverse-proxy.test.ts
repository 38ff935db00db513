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
