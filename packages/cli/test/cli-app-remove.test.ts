import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, yamlWithSteps } from '../../server/test/support/app-fixture.js';
import {
  createDeployableApp,
  deployedTo,
  envPorts,
  serving,
} from '../../server/test/support/deploy-fixture.js';
import { cleanupAll } from '../../server/test/support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { CLI_BIN, type CliSandbox, cliEnv, makeCliSandbox } from './support/run-cli.js';

let server: TestServer;
let cli: CliSandbox;

beforeAll(async () => {
  server = await startTestServer();
  cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
});

afterAll(async () => {
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

const appNames = async () =>
  (await server.api<{ name: string }[]>('GET', '/api/apps')).body.map((a) => a.name);

/** Runs the CLI on a pseudo-terminal (util-linux `script`), typing `answer` at the prompt. */
function onTerminal(args: string[], answer: string): Promise<{ code: number | null; out: string }> {
  const command = [process.execPath, CLI_BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    env: cliEnv({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.includes('[y/N]') && child.stdin.writable) child.stdin.end(`${answer}\n`);
  });
  child.stderr.on('data', (c: Buffer) => {
    out += c.toString();
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

describe('gantry app remove', () => {
  it('needs --yes without a terminal, and removes with it; the name can be added again', async () => {
    const app = await createApp(server, yamlWithSteps(['true']), { name: 'tidy' });
    const refused = await cli.run(['app', 'remove', 'tidy']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('pass --yes');
    expect(await appNames()).toContain('tidy');

    const removed = await cli.run(['app', 'remove', 'tidy', '--yes']);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain('Removed app tidy');
    expect(removed.stdout).toContain('history');
    expect(await appNames()).not.toContain('tidy');

    const again = await cli.run(['app', 'add', 'tidy', app.bare.dir, '--json']);
    expect(again.code).toBe(0);
    expect(await appNames()).toContain('tidy');
    expect((await cli.run(['app', 'remove', 'tidy', '--yes', '--purge', '--json'])).code).toBe(0);
  });

  it('asks on a terminal: "n" keeps the app, "y" removes it', async () => {
    await createApp(server, yamlWithSteps(['true']), { name: 'asked' });
    const no = await onTerminal(['app', 'remove', 'asked'], 'n');
    expect(no.out).toContain('Remove app asked? [y/N]');
    expect(no.out).toContain('nothing was removed');
    expect(no.code).not.toBe(0);
    expect(await appNames()).toContain('asked');
    const yes = await onTerminal(['app', 'remove', 'asked'], 'y');
    expect(yes.code).toBe(0);
    expect(yes.out).toContain('Removed app asked');
    expect(await appNames()).not.toContain('asked');
  });

  it('refuses while an environment runs; --stop-environments stops it', async () => {
    const ports = await envPorts();
    const app = await createDeployableApp(server, ports);
    await deployedTo(server, 'qa', app.v1);
    const refused = await cli.run(['app', 'remove', 'shop', '--yes']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--stop-environments');
    expect(await serving(ports.qa)).toContain('v1');
    const removed = await cli.run(['app', 'remove', 'shop', '--yes', '--stop-environments']);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain('stopped qa');
    await expect(serving(ports.qa)).rejects.toThrow();
  });

  it('an unknown app is an error that says so', async () => {
    const res = await cli.run(['app', 'remove', 'ghost', '--yes']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('no app named "ghost"');
  });
});
