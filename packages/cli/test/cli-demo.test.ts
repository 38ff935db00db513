import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliSandbox, cliEnv, makeCliSandbox } from './support/run-cli.js';

const run = promisify(execFile);

const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
let cli: CliSandbox;

beforeAll(async () => {
  cli = await makeCliSandbox();
});

afterAll(async () => {
  await cli?.cleanup();
});

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('gantry demo', () => {
  it('keeps its report where it says, removes the temp folder it names, and suggests a command that works from the clone', async () => {
    const res = await cli.run(['demo'], { timeoutMs: 170_000 });
    expect(res.stderr).not.toContain('error:');
    expect(res.code).toBe(0);
    const report = join(cli.cwd, 'gantry-demo-report.html');
    expect(res.stdout).toContain(`The metrics report stays in ${report}`);
    expect(await readFile(report, 'utf8')).toMatch(/^<!doctype html>/i);
    // The audit log of the demo's data checks out; a copy with one row changed by hand does not.
    expect(res.stdout).toMatch(/the audit log checks out: \d+ rows/);
    expect(res.stdout).toMatch(/the audit log is broken at row 3: .+\(the demo's own log is untouched\)/);
    const temp = res.stdout.match(/removed the temp folder (\S+)\./)?.[1];
    expect(temp).toBeDefined();
    expect(await exists(temp!)).toBe(false);
    const last = res.stdout.trimEnd().split('\n').at(-1)!;
    expect(last).toContain('Next: `npx gantry server`');

    // What it suggests works from the clone after `npm ci`: npx finds the workspace's bin.
    const npx = await run('npx', ['--no-install', 'gantry', '--help'], { cwd: REPO_ROOT, env: cliEnv() });
    expect(npx.stdout).toMatch(/^ {2}server /m);
  });
});
