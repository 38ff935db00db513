// The per-environment reverse proxy, a process of its own so the environment keeps serving while
// Gantry is stopped. Started by `openProxy` as: node --import tsx proxy-main.ts <port> <workdir> <socket> [host]
// (or node proxy-main.mjs, compiled beside the server's bundle).
import { readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { PORT_IN_USE_EXIT, proxyFiles } from './proxy-files.js';
import { createProxyServer, listen, ReverseProxy, StaleFence, type Upstream } from './reverse-proxy.js';

const [portArg, workdir, socketPath, hostArg] = process.argv.slice(2);
// The address it listens on: 127.0.0.1, or what a deploy agent was told to serve on (`gantry agent --listen`).
const host = hostArg || '127.0.0.1';
if (!portArg || !workdir || !socketPath) {
  process.stderr.write('usage: proxy-main.ts <port> <workdir> <socket>\n');
  process.exit(2);
}
const port = Number(portArg);
const files = proxyFiles(workdir);
const proxy = new ReverseProxy(files.upstream);
const server = createProxyServer(proxy);

try {
  await listen(server, port, host);
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  process.stderr.write(`proxy: cannot listen on ${host}:${port}: ${(err as Error).message}\n`);
  process.exit(code === 'EADDRINUSE' || code === 'EACCES' ? PORT_IN_USE_EXIT : 1);
}

const control = createServer((req, res) => {
  handleControl(req, res).catch((err: Error) => reply(res, 500, { error: err.message }));
});
rmSync(socketPath, { force: true });
await listen(control, socketPath);
writeFileSync(files.pid, String(process.pid));
process.stdout.write(
  `proxy ${process.pid}: ${host}:${port} → ${JSON.stringify(proxy.state(port).upstream)}\n`,
);

async function handleControl(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'GET' && req.url === '/state') return reply(res, 200, proxy.state(port));
  if (req.method === 'GET' && req.url?.split('?')[0] === '/traffic') {
    const since = new URL(req.url, 'http://proxy').searchParams.get('since');
    if (!since || !/^\d+$/.test(since)) return reply(res, 400, { error: 'expected ?since=<epoch ms>' });
    return reply(res, 200, proxy.traffic(Number(since)));
  }
  if (req.method === 'PUT' && req.url === '/upstream') {
    const body = await readBody(req);
    const upstream = JSON.parse(body) as Upstream & { fence?: number };
    if (
      !Number.isInteger(upstream.port) ||
      typeof upstream.sha !== 'string' ||
      (upstream.fence !== undefined && !Number.isInteger(upstream.fence))
    ) {
      return reply(res, 400, { error: 'expected {"port": <int>, "sha": <string>, "fence"?: <int>}' });
    }
    try {
      await proxy.switchTo({ port: upstream.port, sha: upstream.sha }, upstream.fence);
    } catch (e) {
      if (e instanceof StaleFence) return reply(res, 409, { error: e.message });
      throw e;
    }
    process.stdout.write(`proxy ${process.pid}: → ${upstream.sha} on ${upstream.port}\n`);
    return reply(res, 200, proxy.state(port));
  }
  reply(res, 404, { error: `no route ${req.method} ${req.url}` });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

function shutdown(): void {
  control.close();
  rmSync(socketPath!, { force: true });
  try {
    if (readFileSync(files.pid, 'utf8') === String(process.pid)) unlinkSync(files.pid);
  } catch {
    // no pid file to remove
  }
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5_000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
