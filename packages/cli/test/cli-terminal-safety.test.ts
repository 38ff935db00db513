import { spawn } from 'node:child_process';
import type { Deployment } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, finishedBuild } from '../../server/test/support/app-fixture.js';
import { deployedTo, envPorts, SERVER_JS } from '../../server/test/support/deploy-fixture.js';
import { cleanupAll } from '../../server/test/support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../../server/test/support/test-server.js';
import { safeText, TerminalFilter } from '../src/output.js';
import { CLI_BIN, type CliSandbox, cliEnv, makeCliSandbox } from './support/run-cli.js';

// What a hostile pusher writes: a window title change (OSC), a screen clear (CSI) and a
// right-to-left override that makes text read differently from what it is.
const OSC_TITLE = '\x1b]0;pwned\x07';
const CLEAR = '\x1b[2J';
const RLO = '\u202e';
const EVIL = `fix${OSC_TITLE}${CLEAR}${RLO}txt.exe`;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this test looks for
const DANGEROUS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

// The step prints a colour, a title change, a cursor move, a screen clear and an RLO.
const LOUD_STEP = String.raw`printf 'one \033[31mred\033[0m two \033]0;pwned\007 three \033[5;5H\033[2J four \342\200\256five\n'`;

let server: TestServer;
let cli: CliSandbox;
let buildId: string;
let sha: string;

beforeAll(async () => {
  server = await startTestServer();
  const ports = await envPorts();
  const yaml = `build:
  steps:
    - { name: package, run: "mkdir -p dist && cp server.js VERSION dist/" }
    - name: ${JSON.stringify(`loud${RLO}${CLEAR}`)}
      run: ${JSON.stringify(`${LOUD_STEP}; sleep 2`)}
  artifact: { path: dist }
run: { command: node server.js, health: { path: /healthz, timeout: 5s } }
environments:
  qa: { auto_deploy: true, port: ${ports.qa} }
`;
  const app = await createApp(server, yaml, { register: false });
  for (const [p, c] of Object.entries({ 'server.js': SERVER_JS, VERSION: 'v1' })) await app.work.write(p, c);
  sha = await app.work.commit(`${EVIL}\n\nbody ${CLEAR}`, {
    author: `Mallory${OSC_TITLE}${RLO} <m@example.com>`,
  });
  await app.work.push();
  const added = await server.api<{ buildIds: string[] }>('POST', '/api/apps', {
    name: 'shop',
    repoUrl: app.bare.dir,
  });
  expect(added.status).toBe(201);
  buildId = added.body.buildIds[0]!;
  expect((await finishedBuild(server, buildId)).status).toBe('succeeded');
  await deployedTo(server, 'qa', sha);
  // A deploy tag whose tagger name and message are hostile too: they become the deployment's actor and reason.
  await app.work.run([
    '-c',
    `user.name=Eve${CLEAR}${RLO}`,
    'tag',
    '-a',
    '-m',
    `why ${OSC_TITLE}`,
    'deploy/qa/evil',
    sha,
  ]);
  await app.work.run(['push', 'origin', 'deploy/qa/evil']);
  expect((await server.api('POST', '/api/hooks/git', { app: 'shop' })).status).toBeLessThan(300);
  await waitFor(async () => {
    const { body } = await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa');
    return body.find((d) => d.tag === 'deploy/qa/evil');
  }, 'the deployment of the evil tag');
  cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
});

afterAll(async () => {
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

/** Runs the CLI on a pseudo-terminal (util-linux `script`), as a user at a terminal would. */
function onTerminal(args: string[], env: Record<string, string | undefined>): Promise<string> {
  const command = [process.execPath, CLI_BIN, ...args].map((a) => `'${a}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: cli.cwd,
      env: cliEnv({ XDG_CONFIG_HOME: cli.xdg, GANTRY_URL: server.url, GANTRY_TOKEN: server.token, ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${out}`))));
  });
}

describe('the CLI prints repository text without terminal control sequences', () => {
  it('status shows the commit subject without escapes or bidi overrides; --json keeps it exact', async () => {
    const res = await cli.run(['status']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('fixtxt.exe');
    expect(res.stdout).not.toMatch(DANGEROUS);
    expect(res.stdout).not.toContain('pwned');
    const json = await cli.json<{ commit: { message: string; authorName: string } }[]>(['status', '--json']);
    expect(json[0]?.commit?.message.split('\n')[0]).toBe(EVIL);
  });

  it('history shows a hostile tagger name and tag message made safe', async () => {
    const res = await cli.run(['history', 'qa']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Eve');
    expect(res.stdout).toContain('deploy/qa/evil');
    expect(res.stdout).not.toMatch(DANGEROUS);
  });

  it('an error that echoes a ref is printed safely', async () => {
    const res = await cli.run(['deploy', 'qa', `nope${OSC_TITLE}${RLO}`, '--no-tag']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('nope');
    expect(res.stderr).not.toMatch(DANGEROUS);
  });

  it('logs piped: no colours and no other sequences', async () => {
    const res = await cli.run(['logs', buildId, '--step', '1']);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('==> loud\none red two  three  four five\n');
  });

  it('logs -f piped: the same, while following', async () => {
    const res = await cli.run(['logs', '-f', buildId]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('one red two  three  four five\n');
    expect(res.stdout).not.toMatch(DANGEROUS);
  });

  it('logs on a terminal keep colours only, and none when NO_COLOR is set', async () => {
    const colour = await onTerminal(['logs', buildId, '--step', '1'], { NO_COLOR: undefined });
    expect(colour).toContain('one \x1b[31mred\x1b[0m two  three  four five');
    expect(colour).not.toContain('pwned');
    expect(colour).not.toContain('\x1b[2J');
    expect(colour).not.toContain('\x1b[5;5H');
    expect(colour).not.toContain(RLO);
    const plain = await onTerminal(['logs', buildId, '--step', '1'], { NO_COLOR: '1' });
    expect(plain).toContain('one red two  three  four five');
    expect(plain).not.toContain('\x1b');
  });
});

describe('progress lines', () => {
  it('gantry build shows the running step, whose name comes from gantry.yaml, made safe', async () => {
    const res = await cli.run(['build', sha.slice(0, 10), '--rebuild'], { timeoutMs: 60_000 });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/step 2\/2 loud/);
    expect(res.stderr).not.toMatch(DANGEROUS);
  });
});

describe('TerminalFilter', () => {
  it('holds a sequence split across chunks until it is complete', () => {
    const f = new TerminalFilter(true);
    const out = [
      f.push('a\x1b[3'),
      f.push('1mb\x1b]0;ti'),
      f.push('tle\x07c\r'),
      f.push('\nd\rx'),
      f.end(),
    ].join('');
    expect(out).toBe('a\x1b[31mbc\r\nd\nx');
  });

  it('safeText removes C1 controls and every bidi control, keeping tabs and newlines', () => {
    expect(safeText('a\u009b2Jb\u2066c\u200fd\te\nf\x7f')).toBe('a2Jbcd\te\nf');
  });
});
