import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Release } from '@gantry/driver-api';
import { afterAll, describe, expect, it } from 'vitest';
import { readEnvState } from '../../../src/drivers/process/env-state.js';
import { findReleaseGroups } from '../../../src/drivers/process/find-release-processes.js';
import { createProcessDriver } from '../../../src/drivers/process/process-driver.js';
import { isAlive, signalGroup } from '../../../src/drivers/process/process-group.js';
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

const LIFE = fileURLToPath(new URL('./gantry-life.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const lives: ChildProcess[] = [];
const driver = createProcessDriver({ supervision: { pollMs: 50 } });

afterAll(async () => {
  for (const life of lives) life.kill('SIGKILL');
  await driver.close();
  await killEverything();
});

/** Runs deployments in another process and SIGKILLs it once its output contains `until`. */
async function gantryKilledAt(workdir: string, releases: Release[], until: string): Promise<void> {
  const life = spawn(process.execPath, ['--import', TSX, LIFE, JSON.stringify({ workdir, releases })], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  lives.push(life);
  let out = '';
  life.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  // The child compiles the driver with tsx before it deploys anything, so give it time on a busy machine.
  await waitFor(() => (out.includes(until) ? true : life.exitCode !== null ? out : undefined), until, 50_000);
  life.kill('SIGKILL');
  await new Promise((resolve) => life.once('exit', resolve));
}

describe('process driver: Gantry SIGKILLed', { timeout: 90_000 }, () => {
  it('adopts what a killed Gantry left serving, and supervises the orphans it adopted', async () => {
    const t = await testEnv();
    const [v1, v2] = [await makeRelease(t.env, 'v1'), await makeRelease(t.env, 'v2')];
    await gantryKilledAt(t.workdir, [v1, v2], `deployed ${v2.sha}`);
    const served = (await get(t.env.port)).body;
    const proxyPid = await readProxyPid(t.workdir);

    expect((await driver.restore!(t.env, v2, t.ctx)).kind).toBe('noop');
    expect((await get(t.env.port)).body).toBe(served);
    expect(await readProxyPid(t.workdir)).toBe(proxyPid);

    // An orphan that dies may stay a zombie nobody reaps; it must still count as exited.
    signalGroup((await releasePid(t.workdir, v2.sha))!, 'SIGKILL');
    await waitFor(() => (t.events.some((e) => e.type === 'restarted') ? true : undefined), 'a restart');
    expect((await get(t.env.port)).body).toMatch(/^v2 /);
  });

  it('leaves no untracked process after a kill in the middle of a deployment', async () => {
    const t = await testEnv();
    const v1 = await makeRelease(t.env, 'v1');
    const stuck = await makeRelease(t.env, 'stuck', { healthyAfterMs: 60_000 });
    // Killed while the new release is started and being health-checked, before any switch.
    const health = `deployed ${v1.sha}\nphase unpack\nphase start\nphase health\n`;
    await gantryKilledAt(t.workdir, [v1, stuck], health);
    const stuckPid = (await releasePid(t.workdir, stuck.sha))!;

    const next = withContext(t.workdir, t.env);
    expect((await driver.restore!(t.env, v1, next.ctx)).kind).toBe('noop');
    expect(isAlive(stuckPid)).toBe(false);
    expect(findReleaseGroups(t.workdir).map((g) => g.sha)).toEqual([v1.sha]);
    expect(Object.keys((await readEnvState(t.workdir)).processes)).toEqual([v1.sha]);
    expect((await get(t.env.port)).body).toMatch(/^v1 /);
  });
});
