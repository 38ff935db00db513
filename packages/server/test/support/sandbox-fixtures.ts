import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SandboxMode } from '../../src/sandbox/sandbox.js';

/** Set by test/global-setup.ts when bubblewrap works here; CI requires it (GANTRY_REQUIRE_BWRAP=1). */
export const HAS_BWRAP = Boolean(process.env.TEST_BWRAP);

/** The modes a sandbox-sensitive test runs in: bwrap when it works here (always in CI), and off. */
export const sandboxModes: Exclude<SandboxMode, 'auto'>[] = [
  ...(HAS_BWRAP ? (['bwrap'] as const) : []),
  'off',
];

/** A sleep with a duration no other process has, so a test can find it among the host's processes. */
export function uniqueSleep(seconds: number): string {
  return `${seconds}.${randomBytes(3).readUIntBE(0, 3).toString().padStart(8, '0')}`;
}

/** Host pids of the processes whose command line holds `needle` as one argument. */
export function hostProcesses(needle: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (args.includes(needle)) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export interface HttpGate {
  /** Shell: waits until the gate is open (at most `tries` × 0.1 s when given). */
  waitCommand(tries?: number): string;
  open(): void;
  close(): Promise<void>;
}

/**
 * A gate a build step waits on over loopback (503 until opened, then 200): a sandboxed step cannot
 * see a file the test writes, but it shares the network unless `build.network: false`.
 */
export async function httpGate(): Promise<HttpGate> {
  let opened = false;
  const server = createHttpServer((_req, res) => res.writeHead(opened ? 200 : 503).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const check = `curl -fs http://127.0.0.1:${port}/ >/dev/null`;
  return {
    waitCommand: (tries) =>
      tries === undefined
        ? `until ${check}; do sleep 0.05; done`
        : `i=0; until ${check} || [ $i -ge ${tries} ]; do sleep 0.1; i=$((i+1)); done`,
    open: () => {
      opened = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
