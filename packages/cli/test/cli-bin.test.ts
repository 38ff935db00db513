import { execFile } from 'node:child_process';
import { appendFile, cp, mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
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

/**
 * The compiled CLI loads the server's bundle (packages/server/dist, built by scripts/build-cli.mjs
 * too) only while it is newer than every source it was built from, and the server's sources through
 * tsx otherwise. A copy of the packages with its own node_modules/@gantry, and the two entry points
 * of the server marked, shows which one a `gantry server` loaded.
 */
describe('the server behind bin/gantry.js', () => {
  let root = '';
  let bin = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gantry-bin-server-'));
    const dirs = [
      'cli/bin',
      'cli/src',
      'cli/dist',
      'contracts/src',
      'driver-api/src',
      'server/src',
      'server/dist',
    ];
    for (const dir of dirs) {
      await mkdir(join(root, 'packages', dir), { recursive: true });
      await cp(join(REPO, 'packages', dir), join(root, 'packages', dir), { recursive: true });
    }
    const packages = ['cli', 'contracts', 'driver-api', 'server'];
    for (const pkg of packages)
      await cp(join(REPO, 'packages', pkg, 'package.json'), join(root, 'packages', pkg, 'package.json'));
    // The repository's node_modules, but @gantry/* are the copies.
    await mkdir(join(root, 'node_modules/@gantry'), { recursive: true });
    for (const name of await readdir(join(REPO, 'node_modules'))) {
      if (name !== '@gantry')
        await symlink(join(REPO, 'node_modules', name), join(root, 'node_modules', name));
    }
    for (const pkg of packages)
      await symlink(join(root, 'packages', pkg), join(root, 'node_modules/@gantry', pkg));
    // Marks: each entry point says which it is once all of its modules have loaded, and ends the process.
    const mark = (what: string) => `\nconsole.log('server: ${what}');\nprocess.exit(0);\n`;
    await appendFile(join(root, 'packages/server/dist/bundle/index.mjs'), mark('compiled'));
    await appendFile(join(root, 'packages/server/src/index.ts'), mark('sources'));
    const future = new Date(Date.now() + 60_000);
    for (const pkg of ['cli', 'server'])
      await utimes(join(root, 'packages', pkg, 'dist/built.json'), future, future);
    bin = join(root, 'packages/cli/bin/gantry.js');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  const which = async (env: Record<string, string> = {}) =>
    (
      await run(process.execPath, [bin, 'server', '--port', '0', '--data-dir', join(root, 'data')], {
        env: cliEnv(env),
      })
    ).stdout.trim();

  it('loads the compiled server when it is newer than the sources', async () => {
    expect(await which()).toBe('server: compiled');
  });

  it('loads the sources when asked to, or when one source of the server is newer than the build', async () => {
    expect(await which({ GANTRY_CLI_FROM_SOURCES: '1' })).toBe('server: sources');
    const later = new Date(Date.now() + 120_000);
    await utimes(join(root, 'packages/server/src/start-server.ts'), later, later);
    expect(await which()).toBe('server: sources');
  });
});

/**
 * An installed package (scripts/pack.mjs) has bin/ and dist/ but no sources: bin/gantry.js runs the
 * compiled CLI at once, whatever the times and GANTRY_CLI_FROM_SOURCES say (cli-packed.test.ts
 * installs the real package).
 */
describe('bin/gantry.js in an installed package', () => {
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gantry-bin-installed-'));
    await cp(join(REPO, 'packages/cli/bin'), join(root, 'bin'), { recursive: true });
    await mkdir(join(root, 'dist'));
    await writeFile(join(root, 'dist/gantry.mjs'), 'console.log("compiled");\n');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('runs the compiled CLI, with no build stamp to compare and even when asked for the sources', async () => {
    const bin = join(root, 'bin/gantry.js');
    for (const env of [{}, { GANTRY_CLI_FROM_SOURCES: '1' }])
      expect((await run(process.execPath, [bin], { env: cliEnv(env) })).stdout.trim()).toBe('compiled');
  });
});
