import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How the proxy tells the driver that the environment's port is taken. */
export const PORT_IN_USE_EXIT = 98;

// A unix socket path must fit in sockaddr_un (104 bytes on macOS, 108 on Linux).
const MAX_SOCKET_PATH = 100;

export function proxyFiles(workdir: string): { pid: string; upstream: string; log: string; socket: string } {
  const inWorkdir = join(workdir, 'proxy.sock');
  const socket =
    inWorkdir.length <= MAX_SOCKET_PATH
      ? inWorkdir
      : join(
          tmpdir(),
          `gantry-proxy-${createHash('sha256').update(workdir).digest('hex').slice(0, 16)}.sock`,
        );
  return {
    pid: join(workdir, 'proxy.pid'),
    upstream: join(workdir, 'proxy.json'),
    log: join(workdir, 'proxy.log'),
    socket,
  };
}
