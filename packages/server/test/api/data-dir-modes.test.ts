import { chmod, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/server-config.js';
import { installPostReceiveHook } from '../../src/git/post-receive-hook.js';
import { startServer } from '../../src/start-server.js';
import { createDeployableApp, deployedTo, envPorts } from '../support/deploy-fixture.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

// A permissive umask, as a server started from a login shell would have: the modes below must
// come from Gantry itself, not from the umask.
let umask: number;
let server: TestServer;
let hookPath: string;
let closed = false;

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

/** Every file and folder under `dir`, with its mode. */
async function tree(dir: string): Promise<{ path: string; dir: boolean; mode: number }[]> {
  const out: { path: string; dir: boolean; mode: number }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    out.push({ path, dir: entry.isDirectory(), mode: await modeOf(path) });
    if (entry.isDirectory()) out.push(...(await tree(path)));
  }
  return out;
}

beforeAll(async () => {
  // The most permissive umask: every mode checked below is one Gantry set itself.
  umask = process.umask(0);
  server = await startTestServer();
  const ports = await envPorts();
  const app = await createDeployableApp(server, ports);
  await deployedTo(server, 'qa', app.v1);
  ({ hookPath } = await installPostReceiveHook(app.bare.dir, {
    serverUrl: server.url,
    app: 'shop',
    token: 'gnt_secret',
  }));
});

afterAll(async () => {
  if (!closed) await server?.close();
  process.umask(umask);
  await cleanupAll();
});

describe('file modes, whatever the umask', () => {
  it('after a build and a deploy: data dir 0700; database, WAL, SHM, cli.json and build logs 0600', async () => {
    const d = server.dataDir;
    expect(await modeOf(d)).toBe(0o700);
    for (const f of ['gantry.db', 'gantry.db-wal', 'gantry.db-shm', 'cli.json'])
      expect([f, await modeOf(join(d, f))]).toEqual([f, 0o600]);
    const logs = await tree(join(d, 'logs'));
    expect(logs.filter((e) => !e.dir).length).toBeGreaterThan(0);
    expect(logs.filter((e) => e.mode !== (e.dir ? 0o700 : 0o600))).toEqual([]);
    expect(await modeOf(join(d, 'logs'))).toBe(0o700);
    expect(await modeOf(join(d, 'artifacts'))).toBe(0o700);
    // The rest (mirrors, releases) keeps git's and tar's modes: the 0700 data dir is what keeps others
    // out; `gantry server` also runs with umask 077 (cli-server.test.ts checks every file it writes).
  });

  it('the installed git hook, which holds the hook token, is its owner’s only', async () => {
    expect(await modeOf(hookPath)).toBe(0o700);
  });

  it('a data dir left with open modes is fixed at start', async () => {
    const d = server.dataDir;
    await server.close();
    closed = true;
    const someLog = (await tree(join(d, 'logs'))).find((e) => !e.dir)!.path;
    await chmod(d, 0o755);
    await chmod(join(d, 'logs'), 0o755);
    for (const f of [join(d, 'gantry.db'), join(d, 'cli.json'), someLog]) await chmod(f, 0o644);
    const { config } = loadServerConfig(
      { dataDir: d, port: 0, defaultPollIntervalMs: 0, logLevel: 'silent' },
      {},
    );
    const again = await startServer(config, { logger: pino({ level: 'silent' }), background: false });
    try {
      expect(await modeOf(d)).toBe(0o700);
      expect(await modeOf(join(d, 'logs'))).toBe(0o700);
      for (const f of [join(d, 'gantry.db'), join(d, 'cli.json'), someLog])
        expect(await modeOf(f)).toBe(0o600);
    } finally {
      await again.stop();
    }
  });
});
