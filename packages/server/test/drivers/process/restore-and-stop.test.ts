import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEnvState } from '../../../src/drivers/process/env-state.js';
import { findReleaseGroups } from '../../../src/drivers/process/find-release-processes.js';
import { createProcessDriver, type ProcessDriver } from '../../../src/drivers/process/process-driver.js';
import { isAlive, signalGroup, waitGone } from '../../../src/drivers/process/process-group.js';
import {
  get,
  killEverything,
  makeRelease,
  readProxyPid,
  releasePid,
  testEnv,
  waitFor,
  withContext,
} from './process-fixtures.js';

const drivers: ProcessDriver[] = [];
/** Each Gantry "life" is a new driver instance; the previous one is dropped as if the server died. */
function gantry(): ProcessDriver {
  const driver = createProcessDriver({ supervision: { pollMs: 50 } });
  drivers.push(driver);
  return driver;
}

afterAll(async () => {
  for (const driver of drivers) await driver.close();
  await killEverything();
});

async function twoReleases() {
  const t = await testEnv();
  const [v1, v2] = [await makeRelease(t.env, 'v1'), await makeRelease(t.env, 'v2')];
  const first = gantry();
  await first.deploy(v1, t.ctx);
  await first.deploy(v2, t.ctx);
  await first.close();
  return { t, v1, v2 };
}

describe('process driver: restore and stop', () => {
  it('adopts the proxy, the serving release and its standby after Gantry restarts', async () => {
    const { t, v1, v2 } = await twoReleases();
    const proxyPid = await readProxyPid(t.workdir);
    const before = await readEnvState(t.workdir);
    const served = (await get(t.env.port)).body;

    const next = withContext(t.workdir, t.env);
    const driver = gantry();
    expect(await driver.restore!(t.env, v2, next.ctx)).toEqual({
      url: `http://127.0.0.1:${t.env.port}`,
      kind: 'noop',
    });
    expect(await readProxyPid(t.workdir)).toBe(proxyPid);
    expect((await get(t.env.port)).body).toBe(served);
    const after = await readEnvState(t.workdir);
    expect(after.processes).toEqual(before.processes);
    expect(after.standby).toEqual([v1.sha]);

    // Adopted processes are not our children: their exit is seen by polling, and they come back.
    signalGroup(after.processes[v2.sha]!.pid, 'SIGKILL');
    await waitFor(() => (next.events.some((e) => e.type === 'restarted') ? true : undefined), 'a restart');
    expect(next.events[0]).toMatchObject({ type: 'crashed', sha: v2.sha, exitCode: null });
    expect((await get(t.env.port)).body).toMatch(/^v2 /);
    expect((await driver.deploy(v1, next.ctx)).kind).toBe('switch');
  });

  it('starts the app and the proxy again when they were killed while Gantry was down', async () => {
    const { t, v2 } = await twoReleases();
    const appPid = (await releasePid(t.workdir, v2.sha))!;
    const proxyPid = (await readProxyPid(t.workdir))!;
    signalGroup(appPid, 'SIGKILL');
    signalGroup(proxyPid, 'SIGKILL');
    await waitGone(appPid, 5_000);
    await waitGone(proxyPid, 5_000);

    const next = withContext(t.workdir, t.env);
    expect((await gantry().restore!(t.env, v2, next.ctx)).kind).toBe('start');
    expect((await get(t.env.port)).body).toMatch(/^v2 /);
    expect(await releasePid(t.workdir, v2.sha)).not.toBe(appPid);
    expect(await readProxyPid(t.workdir)).not.toBe(proxyPid);
  });

  it('stops every release process that is neither serving nor a wanted standby', async () => {
    const { t, v1, v2 } = await twoReleases();
    const v1Pid = (await releasePid(t.workdir, v1.sha))!;
    // As if Gantry died between starting a release and writing down its pid.
    const untracked = spawn('sleep', ['60'], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, GANTRY_RELEASE_DIR: join(t.workdir, 'releases', 'f00dfeed') },
    });
    const env = { ...t.env, standby: 0 };
    const next = withContext(t.workdir, env);
    await gantry().restore!(env, v2, next.ctx);
    expect(isAlive(v1Pid)).toBe(false);
    expect(isAlive(untracked.pid!)).toBe(false);
    expect(findReleaseGroups(t.workdir).map((g) => g.sha)).toEqual([v2.sha]);
    expect((await readEnvState(t.workdir)).standby).toEqual([]);
  });

  it('switches back to the release Gantry knows served when it died mid-deployment', async () => {
    const { t, v1, v2 } = await twoReleases();
    const next = withContext(t.workdir, t.env);
    // The database says v1 serves: the deployment of v2 never finished as far as Gantry knows.
    expect((await gantry().restore!(t.env, v1, next.ctx)).kind).toBe('noop');
    expect((await get(t.env.port)).body).toMatch(/^v1 /);
    expect((await readEnvState(t.workdir)).standby).toEqual([v2.sha]);
  });

  it('stop closes the port and leaves no process behind', async () => {
    const { t, v1, v2 } = await twoReleases();
    const pids = [
      (await releasePid(t.workdir, v1.sha))!,
      (await releasePid(t.workdir, v2.sha))!,
      (await readProxyPid(t.workdir))!,
    ];
    const driver = gantry();
    await driver.stop(t.env, withContext(t.workdir, t.env).ctx);

    expect(pids.filter(isAlive)).toEqual([]);
    expect(findReleaseGroups(t.workdir)).toEqual([]);
    expect(await portAnswers(t.env.port)).toBe(false);
    expect(await driver.health(t.env, t.ctx)).toMatchObject({ healthy: false });
  });
});

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
