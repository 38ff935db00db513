import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { DemoPorts } from './sample-app.js';

export async function pickDemoPorts(): Promise<DemoPorts> {
  const [qa, staging, production] = (await freePortsBelowEphemeral(3)) as [number, number, number];
  return { qa, staging, production };
}

/**
 * Free ports for environments, below the OS's ephemeral range: a proxy binds its port only when its
 * environment is first deployed, and an outgoing connection could take an ephemeral one meanwhile.
 */
export async function freePortsBelowEphemeral(count: number): Promise<number[]> {
  const ephemeralFrom = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    .then((text) => Number(text.trim().split(/\s+/)[0]))
    .catch(() => 32_768);
  const top = Number.isInteger(ephemeralFrom) && ephemeralFrom > 12_000 ? ephemeralFrom : 32_768;
  const picked: number[] = [];
  for (let tries = 0; picked.length < count; tries++) {
    if (tries > 50 * count) throw new Error(`found no ${count} free ports for environments`);
    const port = top - 10_000 + Math.floor(Math.random() * 9_000);
    if (!picked.includes(port) && (await isFree(port))) picked.push(port);
  }
  return picked;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
