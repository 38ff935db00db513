import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_BWRAP } from '../../server/test/support/sandbox-fixtures.js';
import { type CliProcess, type CliSandbox, makeCliSandbox } from './support/run-cli.js';

// `gantry server --sandbox …` and `gantry status` as a user runs them.

const LISTENING = /Gantry is listening on (http:\/\/127\.0\.0\.1:\d+) /;

let root: string;
let cli: CliSandbox;
const running = new Set<CliProcess>();

function startServer(args: string[], env: Record<string, string> = {}): CliProcess {
  const server = cli.start(['server', '--port', '0', ...args], {
    cwd: root,
    env: { GANTRY_LOG_LEVEL: 'warn', ...env },
    timeoutMs: 60_000,
  });
  running.add(server);
  void server.done.then(() => running.delete(server));
  return server;
}

async function stop(server: CliProcess) {
  server.child.kill('SIGTERM');
  return server.done;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gantry-cli-sandbox-'));
  cli = await makeCliSandbox();
});

afterAll(async () => {
  await Promise.all([...running].map(stop));
  await cli?.cleanup();
  await rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

describe('gantry server --sandbox', () => {
  it('off: warns at start, and gantry status warns too', async () => {
    const dataDir = join(root, 'off');
    const server = startServer(['--data-dir', dataDir, '--sandbox', 'off']);
    await server.waitForStdout(LISTENING);
    // stderr is its own pipe: the warning may arrive just after the line on stdout.
    for (const until = Date.now() + 5_000; !server.stderr.includes('WARNING') && Date.now() < until; )
      await new Promise((r) => setTimeout(r, 20));
    expect(server.stderr).toContain('WARNING: no build sandbox (builds.sandbox is off)');
    const status = await cli.run(['status'], { env: { GANTRY_DATA_DIR: dataDir } });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toContain(
      'WARNING: the server runs build steps and deploy scripts without a sandbox (off: builds.sandbox is off)',
    );
    expect((await stop(server)).code).toBe(0);
  });

  it('refuses a mode it does not know, and GANTRY_BUILDS_SANDBOX the same', async () => {
    const flag = await cli.run(['server', '--data-dir', join(root, 'bad'), '--sandbox', 'maybe']);
    expect(flag.code).not.toBe(0);
    expect(flag.stderr).toContain('--sandbox maybe: expected one of auto, bwrap, off');
    const env = await cli.run(['server', '--data-dir', join(root, 'bad')], {
      env: { GANTRY_BUILDS_SANDBOX: 'maybe' },
    });
    expect(env.code).not.toBe(0);
    expect(env.stderr).toContain('GANTRY_BUILDS_SANDBOX=maybe: expected one of auto, bwrap, off');
  });

  it('bwrap where bubblewrap is missing: the server does not start, and says why', async () => {
    const res = await cli.run(['server', '--data-dir', join(root, 'missing'), '--port', '0'], {
      env: { GANTRY_BUILDS_SANDBOX: 'bwrap', GANTRY_BWRAP: join(root, 'no-such-bwrap') },
    });
    expect(res.code).not.toBe(0);
    expect(res.stdout).not.toContain('Gantry is listening');
    expect(res.stderr).toContain(
      'builds.sandbox is bwrap, but bwrap not found (install the bubblewrap package)',
    );
  });

  it('auto where bubblewrap is missing: starts, warning that builds run without a sandbox', async () => {
    const dataDir = join(root, 'auto-missing');
    const server = startServer(['--data-dir', dataDir], { GANTRY_BWRAP: join(root, 'no-such-bwrap') });
    await server.waitForStdout(LISTENING);
    for (const until = Date.now() + 5_000; !server.stderr.includes('WARNING') && Date.now() < until; )
      await new Promise((r) => setTimeout(r, 20));
    expect(server.stderr).toContain('WARNING: no build sandbox (bwrap not found');
    const status = await cli.run(['status'], { env: { GANTRY_DATA_DIR: dataDir } });
    expect(status.stderr).toContain('without a sandbox (auto: bwrap not found');
    expect((await stop(server)).code).toBe(0);
  });

  it.skipIf(!HAS_BWRAP)('bwrap: starts quietly, and gantry status prints no warning', async () => {
    const dataDir = join(root, 'bwrap');
    const server = startServer(['--data-dir', dataDir], { GANTRY_BUILDS_SANDBOX: 'bwrap' });
    await server.waitForStdout(LISTENING);
    const status = await cli.run(['status'], { env: { GANTRY_DATA_DIR: dataDir } });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).not.toContain('WARNING');
    expect((await stop(server)).code).toBe(0);
    // Only now is all the server wrote collected, a late warning included.
    expect(server.stderr).not.toContain('WARNING');
  });
});
