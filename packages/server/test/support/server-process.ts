import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../../cli/bin/gantry.js');

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  token: string;
  output(): string;
  exited: Promise<number | null>;
}

/** `gantry server` as a real child process, as an operator runs it. */
export async function spawnServer(
  dataDir: string,
  port: number,
  env: NodeJS.ProcessEnv = {},
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, 'server', '--data-dir', dataDir, '--port', String(port)], {
    env: {
      ...process.env,
      GANTRY_POLL_INTERVAL_MS: '0',
      GANTRY_LOG_LEVEL: 'warn',
      // `gantry server` points the user's CLI config at its data dir: here a folder inside it, not the home.
      XDG_CONFIG_HOME: join(dataDir, 'test-xdg-config'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // Starting through tsx on a loaded 2-core machine can take long; the test timeout bounds it anyway.
  const until = Date.now() + 75_000;
  while (!out.includes('Gantry is listening on')) {
    if (child.exitCode !== null) throw new Error(`gantry server exited: ${out}`);
    if (Date.now() > until) throw new Error(`gantry server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const cli = JSON.parse(await readFile(join(dataDir, 'cli.json'), 'utf8')) as { url: string; token: string };
  return { child, url: cli.url, token: cli.token, output: () => out, exited };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Calls the API of a server process with its admin token and parses the JSON answer. */
export async function processApi<T>(
  s: ServerProcess,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${s.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return (await res.json()) as T;
}
