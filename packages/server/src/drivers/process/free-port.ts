import { createServer } from 'node:net';

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether something listens on 127.0.0.1:`port` and keeps doing so for `forMs` (a dying process lets go). */
export async function portTaken(port: number, forMs = 1_000, host = '127.0.0.1'): Promise<boolean> {
  const until = Date.now() + forMs;
  while (await portInUse(port, host)) {
    if (Date.now() >= until) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Whether something already listens on 127.0.0.1:`port`. */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(true);
      else reject(err);
    });
    srv.listen(port, host, () => srv.close(() => resolve(false)));
  });
}
