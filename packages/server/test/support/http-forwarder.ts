import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A plain HTTP forwarder on 127.0.0.1 in front of real servers: `route` names where each request
 * goes (`host:port`), or answers it itself and returns null (a balancer, a registry that hiccups).
 */
export async function httpForwarder(
  route: (req: IncomingMessage, res: ServerResponse) => string | null,
): Promise<{ host: string; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const target = route(req, res);
    if (target === null) return;
    const [hostname, port] = target.split(':');
    const up = request(
      { host: hostname, port: Number(port), path: req.url, method: req.method, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    url: `http://${host}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
