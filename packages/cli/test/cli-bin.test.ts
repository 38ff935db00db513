import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, cliEnv } from './support/run-cli.js';

const run = promisify(execFile);
const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

/**
 * bin/gantry.js runs the compiled CLI only while it is newer than every source it was built from.
 * A copy of the packages, with each entry point marked, shows which one ran.
 */
describe('bin/gantry.js', () => {
  let root = '';
  let bin = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gantry-bin-'));
    for (const dir of ['cli/bin', 'cli/src', 'cli/dist', 'contracts/src', 'driver-api/src']) {
      await mkdir(join(root, 'packages', dir), { recursive: true });
      await cp(join(REPO, 'packages', dir), join(root, 'packages', dir), { recursive: true });
    }
    for (const pkg of ['cli', 'contracts', 'driver-api'])
      await cp(join(REPO, 'packages', pkg, 'package.json'), join(root, 'packages', pkg, 'package.json'));
    await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'));
    // Marks: the compiled entry and the source entry each say which they are.
    await writeFile(join(root, 'packages/cli/dist/gantry.mjs'), 'console.log("compiled");\n');
    await writeFile(join(root, 'packages/cli/src/main.ts'), 'console.log("sources");\n');
    const future = new Date(Date.now() + 60_000);
    await utimes(join(root, 'packages/cli/dist/built.json'), future, future);
    bin = join(root, 'packages/cli/bin/gantry.js');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  const which = async (env: Record<string, string> = {}) =>
    (await run(process.execPath, [bin], { env: cliEnv(env) })).stdout.trim();

  it('runs the compiled CLI when it is newer than the sources', async () => {
    expect(await which()).toBe('compiled');
  });

  it('runs the sources when asked to, or when one source is newer than the build', async () => {
    expect(await which({ GANTRY_CLI_FROM_SOURCES: '1' })).toBe('sources');
    const later = new Date(Date.now() + 120_000);
    await utimes(join(root, 'packages/contracts/src/index.ts'), later, later);
    expect(await which()).toBe('sources');
  });

  it('is the entry point the tests run, and its compiled form answers as the sources do', async () => {
    expect(CLI_BIN).toBe(join(REPO, 'packages/cli/bin/gantry.js'));
    const compiled = await run(process.execPath, [CLI_BIN, '--help'], { env: cliEnv() });
    const sources = await run(process.execPath, [CLI_BIN, '--help'], {
      env: cliEnv({ GANTRY_CLI_FROM_SOURCES: '1' }),
    });
    expect(compiled.stdout).toBe(sources.stdout);
    expect(compiled.stdout).toMatch(/^ {2}demo /m);
  });
});
