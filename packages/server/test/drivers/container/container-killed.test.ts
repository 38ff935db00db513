import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ImageArtifact, Release } from '@gantry/driver-api';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createContainerDriver } from '../../../src/drivers/container/container-driver.js';
import { LABEL } from '../../../src/drivers/container/container-labels.js';
import { readContainerState } from '../../../src/drivers/container/container-state.js';
import { readPidFile, readProxyState } from '../../../src/drivers/process/proxy-control.js';
import { describeContainers } from '../../support/container-fixtures.js';
import {
  buildImage,
  cleanupContainers,
  docker,
  envContainers,
  releaseOf,
  served,
  type TestEnv,
  testEnv,
  waitFor,
  withContext,
} from './container-fixtures.js';

const LIFE = fileURLToPath(new URL('./container-life.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const lives: ChildProcess[] = [];

/** Runs deployments in another process and SIGKILLs it once its output contains `until`. */
async function gantryKilledAt(workdir: string, releases: Release[], until: string): Promise<string> {
  const life = spawn(process.execPath, ['--import', TSX, LIFE, JSON.stringify({ workdir, releases })], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  lives.push(life);
  let out = '';
  life.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await waitFor(() => (out.includes(until) ? true : life.exitCode !== null ? out : undefined), until, 60_000);
  life.kill('SIGKILL');
  await new Promise((resolve) => life.once('exit', resolve));
  return out;
}

/** After restore: the proxy forwards to exactly one running container of `release`; at most `standby` more run. */
async function expectOneServing(t: TestEnv, release: Release, version: string): Promise<void> {
  const proxy = await readProxyState(t.workdir);
  const containers = await envContainers(t.env);
  const seen = { proxy: proxy?.upstream, containers: containers.map((c) => [c.Labels[LABEL.port], c.State]) };
  expect(await served(t.env.port), JSON.stringify(seen)).toBe(version);
  const onProxy = containers.filter((c) => Number(c.Labels[LABEL.port]) === proxy?.upstream?.port);
  expect(onProxy).toHaveLength(1);
  expect(onProxy[0]!.Labels[LABEL.sha]).toBe(release.sha);
  expect(onProxy[0]!.State).toBe('running');
  expect(containers.length).toBeLessThanOrEqual(1 + t.env.standby);
  const state = await readContainerState(t.workdir);
  expect(state.containers[state.serving!]?.id).toBe(onProxy[0]!.Id);
  expect(
    Object.values(state.containers)
      .map((c) => c.id)
      .sort(),
  ).toEqual(containers.map((c) => c.Id).sort());
}

describeContainers('container driver: Gantry SIGKILLed', { timeout: 120_000 }, () => {
  const driver = createContainerDriver({ stopTimeoutS: 3, drainTimeoutMs: 3_000 });
  let v1: ImageArtifact;
  let v2: ImageArtifact;
  let stuck: ImageArtifact;

  beforeAll(async () => {
    [v1, v2, stuck] = await Promise.all([
      buildImage('v1'),
      buildImage('v2'),
      buildImage('stuck', { healthy: false }),
    ]);
  }, 180_000);

  afterAll(async () => {
    for (const life of lives) life.kill('SIGKILL');
    await driver.close();
    await cleanupContainers();
  });

  it('killed mid-pull: restore adopts the container that served and nothing else runs', async () => {
    const t = await testEnv();
    const [r1, r2] = [releaseOf(t.env, 'v1', v1), releaseOf(t.env, 'v2', v2)];
    await gantryKilledAt(t.workdir, [r1, r2], `deployed ${r1.sha}\nphase unpack\n`);
    expect(await served(t.env.port)).toBe('v1');
    const next = withContext(t.workdir, t.env);
    expect((await driver.restore!(t.env, r1, next.ctx)).kind).toBe('noop');
    await expectOneServing(next, r1, 'v1');
  });

  it('killed mid-health: restore removes the half-started container', async () => {
    const t = await testEnv();
    const [r1, r3] = [releaseOf(t.env, 'v1', v1), releaseOf(t.env, 'stuck', stuck)];
    await gantryKilledAt(
      t.workdir,
      [r1, r3],
      `deployed ${r1.sha}\nphase unpack\nphase start\nphase health\n`,
    );
    expect((await envContainers(t.env)).map((c) => c.Labels[LABEL.sha]).sort()).toEqual(
      [r1.sha, r3.sha].sort(),
    );
    const next = withContext(t.workdir, t.env);
    expect((await driver.restore!(t.env, r1, next.ctx)).kind).toBe('noop');
    await expectOneServing(next, r1, 'v1');
    expect((await envContainers(t.env)).map((c) => c.Labels[LABEL.sha])).toEqual([r1.sha]);
  });

  it('after a reboot (containers stopped, proxy gone): restore starts the same containers again', async () => {
    const t = await testEnv();
    const [r1, r2] = [releaseOf(t.env, 'v1', v1), releaseOf(t.env, 'v2', v2)];
    const before = createContainerDriver({ stopTimeoutS: 3 });
    await before.deploy(r1, t.ctx);
    await before.deploy(r2, t.ctx);
    await before.close();
    const d = await docker();
    const ids = (await envContainers(t.env)).map((c) => c.Id).sort();
    await Promise.all(ids.map((id) => d.getContainer(id).stop({ t: 1 })));
    process.kill(-(await readPidFile(join(t.workdir, 'proxy.pid')))!, 'SIGKILL');
    await waitFor(async () => ((await served(t.env.port)) === null ? true : undefined), 'the proxy gone');

    const next = withContext(t.workdir, t.env);
    expect((await driver.restore!(t.env, r2, next.ctx)).kind).toBe('start');
    await expectOneServing(next, r2, 'v2');
    const after = await envContainers(t.env);
    expect(after.map((c) => c.Id).sort()).toEqual(ids);
    expect(after.every((c) => c.State === 'running')).toBe(true);
  });

  it('killed mid-switch: restore keeps whichever the proxy serves healthy, exactly once, with the proxy on it', async () => {
    const t = await testEnv();
    const [r1, r2] = [releaseOf(t.env, 'v1', v1), releaseOf(t.env, 'v2', v2)];
    await gantryKilledAt(
      t.workdir,
      [r1, r2],
      `deployed ${r1.sha}\nphase unpack\nphase start\nphase health\nphase switch\n`,
    );
    // As the deployer does: ask the driver what serves, and restore that.
    const next = withContext(t.workdir, t.env);
    const health = await driver.health(t.env, next.ctx);
    expect(health.healthy).toBe(true);
    const [release, version] = health.sha === r2.sha ? [r2, 'v2'] : [r1, 'v1'];
    expect(health.sha).toBe(release.sha);
    expect((await driver.restore!(t.env, release, next.ctx)).kind).toBe('noop');
    await expectOneServing(next, release, version);
    if (release === r2) {
      expect((await envContainers(t.env)).map((c) => c.Labels[LABEL.sha]).sort()).toEqual(
        [r1.sha, r2.sha].sort(),
      );
    }
  });
});
