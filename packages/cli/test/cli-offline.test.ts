import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigIssue } from '@gantry/contracts';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type CliSandbox, freePort, makeCliSandbox } from './support/run-cli.js';

// Commands that need no server, and what every API command says when there is none. The tests are
// independent, so they run concurrently (with the test context's `expect`).

const GOOD = `app: shop
build:
  steps:
    - { name: test, run: npm test }
  artifact: { path: dist }
`;
const BROKEN = `app: shop
build:
  steps:
    - { name: test, run: 42 }
  artifact: { path: dist }
  tiemout: 5m
`;

let cli: CliSandbox;

beforeAll(async () => {
  cli = await makeCliSandbox();
  await writeFile(join(cli.cwd, 'gantry.yaml'), GOOD);
  await writeFile(join(cli.cwd, 'broken.yaml'), BROKEN);
});

afterAll(async () => cli?.cleanup());

describe.concurrent('gantry --help', () => {
  it('lists the commands', async ({ expect }) => {
    const res = await cli.run(['--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Usage: gantry /);
    for (const command of [
      'server',
      'app',
      'build',
      'builds',
      'cancel',
      'logs',
      'artifacts',
      'prune',
      'validate',
      'hook',
      'login',
      'demo',
    ]) {
      expect(res.stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
    }
  });
});

describe.concurrent('gantry validate', () => {
  it('says a good file (./gantry.yaml by default) is valid', async ({ expect }) => {
    const res = await cli.run(['validate']);
    expect(res).toMatchObject({ code: 0, stdout: 'gantry.yaml is valid\n', stderr: '' });
  });

  it('prints file:line:col: for each error of a broken file and exits non-zero', async ({ expect }) => {
    const [text, json] = await Promise.all([
      cli.run(['validate', 'broken.yaml']),
      cli.run(['validate', 'broken.yaml', '--json']),
    ]);
    expect(text.code).not.toBe(0);
    expect(text.stdout).toBe('');
    expect(text.stderr.split('\n')).toEqual([
      'broken.yaml:4:26: build.steps[0].run: expected a string (the shell command to run), got number',
      'broken.yaml:6:3: build.tiemout: unknown key "tiemout"; did you mean "timeout"?',
      'error: broken.yaml has 2 errors',
      '',
    ]);

    expect(json.code).not.toBe(0);
    const parsed = JSON.parse(json.stdout) as { errors: ConfigIssue[]; warnings: ConfigIssue[] };
    expect(parsed.errors.map((e) => [e.file, e.line, e.column, e.path])).toEqual([
      ['broken.yaml', 4, 26, 'build.steps[0].run'],
      ['broken.yaml', 6, 3, 'build.tiemout'],
    ]);
    expect(parsed.warnings).toEqual([]);
  });

  it('says when the file is missing', async ({ expect }) => {
    const res = await cli.run(['validate', 'nope.yaml']);
    expect(res.code).not.toBe(0);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^error: nope\.yaml: no such file/);
  });
});

describe.concurrent('API commands without a server', () => {
  const commands = [
    ['app', 'list'],
    ['build', 'HEAD', '--app', 'shop'],
  ];

  it('tell the user to start `gantry server` or set GANTRY_URL/GANTRY_TOKEN when none is configured', async ({
    expect,
  }) => {
    const results = await Promise.all(commands.map((args) => cli.run(args)));
    for (const [i, res] of results.entries()) {
      const what = `gantry ${commands[i]!.join(' ')}: ${res.stderr}`;
      expect(res.code, what).not.toBe(0);
      expect(res.stdout, what).toBe('');
      expect(res.stderr, what).toMatch(/^error: no Gantry server configured/);
      expect(res.stderr, what).toContain('`gantry server`');
      expect(res.stderr, what).toContain('GANTRY_URL and GANTRY_TOKEN');
      expect(res.stderr, what).not.toMatch(/^\s+at /m); // a message, not a stack trace
    }
  });

  it('say they cannot reach a server that is down', async ({ expect }) => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const env = { GANTRY_URL: url, GANTRY_TOKEN: 'gnt_whatever' };
    const results = await Promise.all(commands.map((args) => cli.run(args, { env })));
    for (const [i, res] of results.entries()) {
      const what = `gantry ${commands[i]!.join(' ')}: ${res.stderr}`;
      expect(res.code, what).not.toBe(0);
      expect(res.stdout, what).toBe('');
      expect(res.stderr, what).toContain(`cannot reach the Gantry server at ${url}`);
    }
  });
});
