import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, type CliSandbox, freePort, makeCliSandbox } from './support/run-cli.js';

// `gantry server` as a user runs it: a subprocess on a real port with its own data dir.

const LISTENING = /Gantry is listening on (http:\/\/127\.0\.0\.1:\d+) /;
const TOKEN = /admin token \(shown once, stored hashed\):\n\n {2}(\S+)\n/;

let root: string;
let dataDir: string;
let cli: CliSandbox;
const running = new Set<CliProcess>();

function startServer(port: number): CliProcess {
  const server = cli.start(['server', '--data-dir', dataDir, '--port', String(port)], {
    cwd: root,
    env: { GANTRY_LOG_LEVEL: 'warn' },
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
  root = await mkdtemp(join(tmpdir(), 'gantry-cli-server-'));
  dataDir = join(root, '.gantry');
  cli = await makeCliSandbox();
});

afterAll(async () => {
  await Promise.all([...running].map(stop));
  await cli?.cleanup();
  if (root) await rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

describe('gantry server', () => {
  it('prints its URL and a first-start token that works with login; exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const server = startServer(port);
    const [, url] = await server.waitForStdout(LISTENING);
    expect(url).toBe(`http://127.0.0.1:${port}`);
    const [, token] = await server.waitForStdout(TOKEN);
    expect(token).toMatch(/^gnt_/);
    expect(server.stdout).toContain(`${dataDir}/cli.json`);

    const [badLogin, login] = await Promise.all([
      cli.run(['login', url!, 'gnt_wrong']),
      cli.run(['login', url!, token!]),
    ]);
    expect(badLogin.code).not.toBe(0);
    expect(badLogin.stderr).toMatch(/^error: unknown API token/);
    expect(login.code).toBe(0);
    const configFile = join(cli.xdg, 'gantry', 'config.json');
    expect(login.stdout).toBe(`Logged in to ${url}; saved to ${configFile}\n`);
    expect(JSON.parse(await readFile(configFile, 'utf8'))).toEqual({ url, token });
    expect((await stat(configFile)).mode & 0o777).toBe(0o600);

    // cli.cwd is empty (no .gantry) and no GANTRY_* is set: only the saved login can find the server
    const [table, json] = await Promise.all([cli.run(['app', 'list']), cli.run(['app', 'list', '--json'])]);
    expect(table).toMatchObject({ code: 0, stdout: '(none)\n' });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([]);

    const exit = await stop(server);
    expect(exit.code).toBe(0);
    expect(exit.stdout).toContain('stopping…');
  });

  it('keeps its token on restart, and <data-dir>/cli.json lets the CLI work with no setup', async () => {
    const port = await freePort();
    const server = startServer(port);
    const [, url] = await server.waitForStdout(LISTENING);
    await server.waitForStdout(/The gantry CLI of this user|Note: /); // the last line it prints at start
    // No new admin token; the note may name the first one's file (the sandbox is logged in to the old port).
    expect(server.stdout).not.toMatch(/First start|shown once/);
    const cliJson = JSON.parse(await readFile(join(dataDir, 'cli.json'), 'utf8')) as { url: string };
    expect(cliJson.url).toBe(url); // updated to the new port

    const fresh = await makeCliSandbox(); // an empty XDG config: no saved login
    try {
      const [fromCwd, fromEnv, elsewhere] = await Promise.all([
        fresh.run(['app', 'list', '--json'], { cwd: root }), // ./.gantry/cli.json
        fresh.run(['app', 'list', '--json'], { env: { GANTRY_DATA_DIR: dataDir } }),
        fresh.run(['app', 'list', '--json']),
      ]);
      expect(fromCwd.code, fromCwd.stderr).toBe(0);
      expect(JSON.parse(fromCwd.stdout)).toEqual([]);
      expect(fromEnv.code, fromEnv.stderr).toBe(0);
      expect(JSON.parse(fromEnv.stdout)).toEqual([]);
      expect(elsewhere.code).not.toBe(0);
      expect(elsewhere.stderr).toContain('no Gantry server configured');
    } finally {
      await fresh.cleanup();
    }

    const exit = await stop(server);
    expect(exit.code).toBe(0);
  });

  it('--log-file writes its logs to rotated files (0600) instead of stdout', async () => {
    const logDir = join(root, 'server-logs');
    const server = cli.start(
      [
        'server',
        '--data-dir',
        dataDir,
        '--port',
        String(await freePort()),
        '--log-file',
        join(logDir, 'gantry.log'),
      ],
      { cwd: root, env: { GANTRY_LOG_LEVEL: 'info' }, timeoutMs: 60_000 },
    );
    running.add(server);
    await server.waitForStdout(LISTENING);
    expect((await stop(server)).code).toBe(0);
    expect(server.stdout).not.toContain('"level"');
    const files = (await readdir(logDir)).filter((f) => /^gantry\.\d+\.log$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    const text = (await Promise.all(files.map((f) => readFile(join(logDir, f), 'utf8')))).join('');
    expect(text).toMatch(/"msg":"Server listening at http:\/\/127\.0\.0\.1:\d+"/);
    for (const f of files) expect((await stat(join(logDir, f))).mode & 0o777).toBe(0o600);
  });

  it('writes nothing that group or others can read, whatever the umask it was started with', async () => {
    const port = await freePort();
    // Started with the most permissive umask: only the server's own umask and modes keep files private.
    const umask = process.umask(0);
    let server: CliProcess;
    try {
      server = startServer(port);
    } finally {
      process.umask(umask);
    }
    await server.waitForStdout(LISTENING);
    const open: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isSymbolicLink()) continue;
        if ((await stat(path)).mode & 0o077) open.push(path);
        if (entry.isDirectory()) await walk(path);
      }
    };
    await walk(dataDir);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect(open).toEqual([]);
    expect((await stop(server)).code).toBe(0);
  });
});
