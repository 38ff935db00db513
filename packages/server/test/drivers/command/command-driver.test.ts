import { existsSync } from 'node:fs';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DriverContext, type EnvironmentSpec, type Release, tarballOf } from '@gantry/driver-api';
import { afterAll, describe, expect, it } from 'vitest';
import { createCommandDriver, planCommandDeploy } from '../../../src/drivers/command/command-driver.js';
import { InvalidInput } from '../../../src/errors.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

const GOOD = '1'.repeat(40);
const BAD = '2'.repeat(40);
const OTHER = '3'.repeat(40);
const RECORD_DEPLOY = 'echo "$GANTRY_SHA" >> deploys.txt';
/** Counts its own runs in the file `n`. */
const COUNT_RUNS = 'n=$(cat n 2>/dev/null || echo 0); n=$((n + 1)); echo $n > n';

interface Setup {
  env: EnvironmentSpec;
  workdir: string;
  ctx(signal?: AbortSignal): DriverContext & { phases: string[] };
  release(sha: string): Promise<Release>;
  read(file: string): Promise<string>;
}

async function setup(
  commands: EnvironmentSpec['commands'],
  extra: Partial<EnvironmentSpec> = {},
): Promise<Setup> {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'gantry-command-')));
  dirs.push(root);
  const workdir = join(root, 'work');
  const env: EnvironmentSpec = {
    app: 'shop',
    name: 'qa',
    port: 7510,
    config: { LOG_LEVEL: 'debug' },
    standby: 1,
    run: { command: 'true', portEnv: 'PORT', health: { path: '/healthz', timeoutMs: 5_000 } },
    commands,
    ...extra,
  };
  const log = () => undefined;
  return {
    env,
    workdir,
    ctx(signal = new AbortController().signal) {
      const phases: string[] = [];
      return {
        logger: { info: log, warn: log, error: log },
        signal,
        workdir,
        phase: (name) => void phases.push(name),
        report: () => undefined,
        phases,
      };
    },
    async release(sha) {
      const path = join(root, `${sha.slice(0, 7)}.tar.gz`);
      await writeFile(path, `artifact ${sha}`);
      return {
        env,
        sha,
        deploymentId: `dep_${sha.slice(0, 7)}`,
        artifact: { path, digest: `sha256:${sha}` },
      };
    },
    read: (file) => readFile(join(workdir, file), 'utf8').catch(() => ''),
  };
}

const lines = (text: string) => text.split('\n').filter(Boolean);

describe('command driver: plan', () => {
  const env: EnvironmentSpec = {
    app: 'shop',
    name: 'qa',
    port: 7510,
    config: {},
    standby: 1,
    commands: { deploy: './deploy.sh', health: './health.sh' },
  };
  const digest = 'sha256:x';

  it("is 'noop' when the target serves already", () => {
    const plan = planCommandDeploy({
      env,
      target: { sha: GOOD, digest },
      releases: [
        { sha: OTHER, digest, state: 'stopped' },
        { sha: GOOD, digest, state: 'serving' },
      ],
    });
    expect(plan.kind).toBe('noop');
  });

  it("is 'start' with steps naming the scripts, and the release it falls back to", () => {
    const plan = planCommandDeploy({
      env,
      target: { sha: BAD, digest },
      releases: [{ sha: GOOD, digest, state: 'serving' }],
    });
    expect(plan.kind).toBe('start');
    expect(plan.steps).toEqual([
      'run the deploy script: ./deploy.sh',
      'run the health script until it passes (30000 ms at most): ./health.sh',
      `if it fails, run the deploy script again with ${GOOD}`,
    ]);
  });
});

describe('command driver: deploy', () => {
  it('runs the deploy script in the workdir with the GANTRY_* variables and the config', async () => {
    const s = await setup(
      { deploy: 'pwd > pwd.txt; env > env.txt' },
      { config: { LOG_LEVEL: 'debug', GANTRY_SHA: 'config-cannot-win' } },
    );
    const release = await s.release(GOOD);
    const result = await createCommandDriver().deploy(release, s.ctx());
    expect(result).toEqual({ url: 'http://127.0.0.1:7510', kind: 'start' });
    expect((await s.read('pwd.txt')).trim()).toBe(s.workdir);
    const vars = Object.fromEntries(lines(await s.read('env.txt')).map((l) => l.split(/=(.*)/s).slice(0, 2)));
    expect(vars).toMatchObject({
      LOG_LEVEL: 'debug',
      GANTRY_SHA: GOOD,
      GANTRY_ARTIFACT: tarballOf(release, 'command').path,
      GANTRY_ARTIFACT_KIND: 'tarball',
      GANTRY_ARTIFACT_DIGEST: release.artifact.digest,
      GANTRY_ENV: 'qa',
      GANTRY_APP: 'shop',
      GANTRY_PORT: '7510',
      GANTRY_WORKDIR: s.workdir,
      PATH: process.env.PATH,
    });
  });

  it('rejects with the exit code and the last lines, and appends every run to command.log', async () => {
    const s = await setup({ deploy: 'echo first line; echo "it broke" >&2; exit 3' });
    const driver = createCommandDriver();
    const failing = driver.deploy(await s.release(GOOD), s.ctx());
    await expect(failing).rejects.toThrow(/exited with code 3; its last lines:\nfirst line\nit broke/);
    await expect(driver.deploy(await s.release(GOOD), s.ctx())).rejects.toThrow(/code 3/);
    const log = await s.read('command.log');
    expect(log.match(/it broke/g)).toHaveLength(2);
    expect(log).toContain(`deploy ${GOOD}`);
    expect((await driver.health(s.env, s.ctx())).sha).toBeNull();
  });

  it('polls the health script until it passes, reporting the start and health phases', async () => {
    const health = `${COUNT_RUNS}; [ $n -ge 3 ]`;
    const s = await setup({ deploy: RECORD_DEPLOY, health });
    const ctx = s.ctx();
    await createCommandDriver({ pollIntervalMs: 10 }).deploy(await s.release(GOOD), ctx);
    expect((await s.read('n')).trim()).toBe('3');
    expect(ctx.phases).toEqual(['start', 'health']);
  });

  it('waits until the health script reports the target SHA when it prints one', async () => {
    const health = `${COUNT_RUNS}; [ $n -ge 3 ] && echo "$GANTRY_SHA" || echo ${OTHER}`;
    const s = await setup({ deploy: RECORD_DEPLOY, health });
    await createCommandDriver({ pollIntervalMs: 10 }).deploy(await s.release(GOOD), s.ctx());
    expect((await s.read('n')).trim()).toBe('3');
  });

  it('deploys the previous release again when the new one never becomes healthy', async () => {
    const health = `[ "$(tail -n 1 deploys.txt)" != "${BAD}" ] || { echo "still bad"; exit 1; }`;
    const s = await setup({ deploy: RECORD_DEPLOY, health }, { run: undefined });
    const driver = createCommandDriver({ pollIntervalMs: 10 });
    await driver.deploy(await s.release(GOOD), s.ctx());
    const badEnv = {
      ...s.env,
      run: { command: 'true', portEnv: 'PORT', health: { path: '/', timeoutMs: 300 } },
    };
    const started = Date.now();
    const failing = driver.deploy({ ...(await s.release(BAD)), env: badEnv }, s.ctx());
    const message = await failing.then(
      () => '',
      (err: Error) => err.message,
    );
    expect(message).toBe(
      `release ${BAD} did not become healthy within 300 ms: health script: exit code 1\nstill bad\n` +
        `The previous release ${GOOD} was deployed again and serves.`,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(lines(await s.read('deploys.txt'))).toEqual([GOOD, BAD, GOOD]);
    expect(await driver.health(s.env, s.ctx())).toEqual({ healthy: true, sha: GOOD });
  });

  it('says so when the previous artifact is gone and cannot be deployed again', async () => {
    const s = await setup({ deploy: `${RECORD_DEPLOY}; [ "$GANTRY_SHA" != "${BAD}" ]` });
    const driver = createCommandDriver();
    const good = await s.release(GOOD);
    await driver.deploy(good, s.ctx());
    await rm(tarballOf(good, 'command').path);
    await expect(driver.deploy(await s.release(BAD), s.ctx())).rejects.toThrow(
      new RegExp(
        `code 1 and wrote nothing\\nDeploying the previous release ${GOOD} again failed too: ENOENT`,
      ),
    );
    expect(lines(await s.read('deploys.txt'))).toEqual([GOOD, BAD]);
  });

  it('is a noop when the target already serves healthy, and restore() deploys only when it does not', async () => {
    const s = await setup({ deploy: RECORD_DEPLOY, health: '[ ! -f down ]' });
    const driver = createCommandDriver();
    const good = await s.release(GOOD);
    await driver.deploy(good, s.ctx());
    expect((await driver.deploy(good, s.ctx())).kind).toBe('noop');
    expect((await driver.restore!(s.env, good, s.ctx())).kind).toBe('noop');
    expect(lines(await s.read('deploys.txt'))).toEqual([GOOD]);
    await writeFile(join(s.workdir, 'down'), '');
    const deploying = driver.restore!(s.env, good, s.ctx());
    await waitFor(
      async () => ((await s.read('deploys.txt')).includes(`${GOOD}\n${GOOD}`) ? true : undefined),
      'a redeploy',
    );
    await rm(join(s.workdir, 'down'));
    expect((await deploying).kind).toBe('start');
  });

  it('kills the whole process group of a script when the signal aborts', async () => {
    const s = await setup({ deploy: 'sleep 30 & echo $! > sleep.pid; wait' });
    const controller = new AbortController();
    const deploying = createCommandDriver().deploy(await s.release(GOOD), s.ctx(controller.signal));
    const pid = await waitFor(
      async () => Number(await s.read('sleep.pid')) || undefined,
      'the script to start',
    );
    controller.abort();
    await expect(deploying).rejects.toThrow(/abort/i);
    await waitFor(async () => (isAlive(pid) ? undefined : true), 'the sleep to be killed', 5_000);
  });

  it('runs nothing when the signal is already aborted', async () => {
    const s = await setup({ deploy: 'touch ran' });
    const controller = new AbortController();
    controller.abort();
    await expect(
      createCommandDriver().deploy(await s.release(GOOD), s.ctx(controller.signal)),
    ).rejects.toThrow();
    expect(existsSync(join(s.workdir, 'ran'))).toBe(false);
  });

  it('refuses an environment without commands.deploy with what to do', async () => {
    const s = await setup({ health: 'true' });
    const deploying = createCommandDriver().deploy(await s.release(GOOD), s.ctx());
    await expect(deploying).rejects.toBeInstanceOf(InvalidInput);
    await expect(deploying).rejects.toThrow('has no commands.deploy; add it to gantry.yaml');
  });
});

describe('command driver: health and stop', () => {
  it('reports the last SHA line the health script prints, else the SHA last deployed', async () => {
    const s = await setup({ deploy: 'true', health: `echo checking; echo ${OTHER}; echo done` });
    const driver = createCommandDriver();
    await driver.deploy(
      { ...(await s.release(GOOD)), env: { ...s.env, commands: { deploy: 'true' } } },
      s.ctx(),
    );
    expect(await driver.health(s.env, s.ctx())).toEqual({ healthy: true, sha: OTHER });
    const silent = { ...s.env, commands: { deploy: 'true', health: 'echo fine' } };
    expect(await driver.health(silent, s.ctx())).toEqual({ healthy: true, sha: GOOD });
  });

  it('is not healthy when the health script exits non-zero, and says why', async () => {
    const s = await setup({ deploy: 'true', health: 'echo "connection refused"; exit 7' });
    const report = await createCommandDriver().health(s.env, s.ctx());
    expect(report).toEqual({
      healthy: false,
      sha: null,
      detail: 'health script: exit code 7\nconnection refused',
    });
  });

  it('runs the stop script with the last release and forgets it; a failing stop rejects', async () => {
    const s = await setup({ deploy: 'true', health: 'true', stop: 'echo "$GANTRY_SHA" > stopped.txt' });
    const driver = createCommandDriver();
    await driver.deploy(await s.release(GOOD), s.ctx());
    await driver.stop(s.env, s.ctx());
    expect((await s.read('stopped.txt')).trim()).toBe(GOOD);
    expect((await driver.health(s.env, s.ctx())).sha).toBeNull();
    const failing = { ...s.env, commands: { stop: 'echo cannot; exit 2' } };
    await expect(driver.stop(failing, s.ctx())).rejects.toThrow(
      'the stop script exited with code 2; its last lines:\ncannot',
    );
  });
});

async function waitFor<T>(check: () => Promise<T | undefined>, what: string, ms = 10_000): Promise<T> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(20)) {
    const value = await check();
    if (value !== undefined) return value;
  }
  throw new Error(`timed out waiting for ${what}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
