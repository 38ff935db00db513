import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DriverContext, type EnvironmentSpec, type Release, tarballOf } from '@gantry/driver-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandDriver } from '../../../src/drivers/command/command-driver.js';
import { createSandbox, type Sandbox } from '../../../src/sandbox/host-sandbox.js';
import { makeSampleArtifact } from '../../support/driver-fixtures.js';
import { HAS_BWRAP, hostProcesses, uniqueSleep } from '../../support/sandbox-fixtures.js';

const SENTINEL = `sentinel-${randomBytes(8).toString('hex')}`;
const SHA = 'c'.repeat(40);
const saved = { ...process.env };
let root = '';
let dataDir = '';
let sandbox: Sandbox;

beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'gantry-command-sandbox-')));
  // A data dir as the server's: its files, another environment's workdir, the server's home.
  dataDir = join(root, 'data');
  await mkdir(join(dataDir, 'envs', 'other', 'prod'), { recursive: true });
  await writeFile(join(dataDir, 'cli.json'), `{"token":"cli-${SENTINEL}"}\n`);
  await writeFile(join(dataDir, 'envs', 'other', 'prod', 'secret.txt'), `other-${SENTINEL}\n`);
  await mkdir(join(root, 'home'), { recursive: true });
  await writeFile(join(root, 'home', 'secret.txt'), `home-${SENTINEL}\n`);
  process.env.HOME = join(root, 'home');
  process.env.GANTRY_TOKEN = `token-${SENTINEL}`;
  process.env.SECRET_SENTINEL = `env-${SENTINEL}`;
  sandbox = await createSandbox({ mode: HAS_BWRAP ? 'bwrap' : 'off', hidden: [dataDir] });
});

afterAll(async () => {
  for (const key of ['HOME', 'GANTRY_TOKEN', 'SECRET_SENTINEL']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
  await rm(root, { recursive: true, force: true });
});

function context(workdir: string, signal = new AbortController().signal): DriverContext {
  const log = () => undefined;
  return { logger: { info: log, warn: log, error: log }, signal, workdir, phase: log, report: log };
}

async function environment(
  deploy: string,
): Promise<{ env: EnvironmentSpec; release: Release; workdir: string }> {
  const workdir = join(dataDir, 'envs', 'shop', `qa-${randomBytes(3).toString('hex')}`);
  const env: EnvironmentSpec = {
    app: 'shop',
    name: 'qa',
    port: 7611,
    config: { API_KEY: 'declared-credential' },
    standby: 1,
    commands: { deploy },
  };
  const artifact = await makeSampleArtifact(join(root, 'artifacts'), 'v1');
  return { env, workdir, release: { env, sha: SHA, deploymentId: 'dep_1', artifact } };
}

describe.skipIf(!HAS_BWRAP)('command driver scripts in the sandbox', () => {
  it('see their workdir, the artifact and their declared config, and none of the secrets', async () => {
    const script = [
      'env',
      'echo "token=$GANTRY_TOKEN secret=$SECRET_SENTINEL key=$API_KEY"',
      `cat ${dataDir}/cli.json; ls -la ${dataDir} ${dataDir}/envs/other/prod; cat ${dataDir}/envs/other/prod/secret.txt`,
      `cat ${root}/home/secret.txt; cat "$HOME/secret.txt"`,
      `for f in /proc/*/environ; do tr '\\0' '\\n' < $f; done`,
      'tar -tzf "$GANTRY_ARTIFACT" > listing.txt && echo "unpacked $(wc -l < listing.txt) names"',
      'echo deployed > state.txt',
    ]
      .map((line) => `${line} || true`)
      .join('\n');
    const { env, release, workdir } = await environment(script);
    const driver = createCommandDriver({ sandbox });
    await driver.deploy(release, context(workdir));
    const log = await readFile(join(workdir, 'command.log'), 'utf8');
    expect(log).toContain('key=declared-credential');
    expect(log).toContain(`GANTRY_ARTIFACT=${tarballOf(release, 'command').path}`);
    expect(log).toContain(`GANTRY_ARTIFACT_DIGEST=${release.artifact.digest}`);
    expect(log).toContain(`GANTRY_SHA=${SHA}`);
    expect(log).toContain(`GANTRY_WORKDIR=${workdir}`);
    expect(log).toContain(`HOME=${workdir}/.home`);
    expect(log).toContain('CI=true');
    expect(log).toMatch(/unpacked [1-9]\d* names/);
    expect(await readFile(join(workdir, 'state.txt'), 'utf8')).toBe('deployed\n');
    expect(log).not.toContain(SENTINEL);
    expect(env.config.API_KEY).toBe('declared-credential');
  });

  it("links a script leaves in place of the driver's own files are not followed by the server", async () => {
    const victim = join(root, 'victim.txt');
    await writeFile(victim, 'host file\n');
    const secret = join(root, 'secret.json');
    await writeFile(secret, `{"sha":"${SENTINEL}"}\n`);
    const script = [
      `ln -sf ${victim} command.log`,
      `ln -sf ${victim} command-state.json.${process.pid}.tmp`,
      'echo "deployed $GANTRY_SHA"',
    ].join('; ');
    const { env, release, workdir } = await environment(script);
    const driver = createCommandDriver({ sandbox });
    await driver.deploy(release, context(workdir));
    await driver.deploy(release, context(workdir)); // appends to command.log again
    expect(await readFile(victim, 'utf8')).toBe('host file\n');
    // A state file swapped for a link to a secret is forgotten, not read.
    const { symlink, rm: remove } = await import('node:fs/promises');
    await remove(join(workdir, 'command-state.json'));
    await symlink(secret, join(workdir, 'command-state.json'));
    const health = await driver.health(env, context(workdir));
    expect(health.sha).toBeNull();
    expect(JSON.stringify(health)).not.toContain(SENTINEL);
  });

  it('a cancelled script gets a TERM it can handle, then is stopped with everything it started', async () => {
    const sleep = uniqueSleep(30);
    const { release, workdir } = await environment(
      `trap 'echo graceful > stopped.txt; exit 1' TERM; sleep ${sleep} & wait`,
    );
    const controller = new AbortController();
    const deploying = createCommandDriver({ sandbox }).deploy(release, context(workdir, controller.signal));
    for (const until = Date.now() + 10_000; !hostProcesses(sleep).length; ) {
      if (Date.now() > until) throw new Error('the script did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    controller.abort();
    await expect(deploying).rejects.toThrow(/abort/i);
    for (const until = Date.now() + 5_000; hostProcesses(sleep).length; ) {
      if (Date.now() > until) throw new Error('the sleep outlived the cancelled script');
      await new Promise((r) => setTimeout(r, 20));
    }
    // The script itself got the TERM and could clean up before the sandbox ended.
    expect(await readFile(join(workdir, 'stopped.txt'), 'utf8')).toBe('graceful\n');
  });
});

describe('command driver scripts without a sandbox', () => {
  it('still get only the allowlisted environment and their declared config', async () => {
    const { release, workdir } = await environment('env > env.txt');
    await createCommandDriver().deploy(release, context(workdir));
    const vars = await readFile(join(workdir, 'env.txt'), 'utf8');
    expect(vars).toContain('API_KEY=declared-credential');
    expect(vars).toContain(`PATH=${process.env.PATH}`);
    expect(vars).not.toContain(SENTINEL);
    expect(vars).not.toContain('GANTRY_TOKEN');
  });
});
