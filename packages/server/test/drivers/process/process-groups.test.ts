import { randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEnvState } from '../../../src/drivers/process/env-state.js';
import { findReleaseGroups } from '../../../src/drivers/process/find-release-processes.js';
import { createProcessDriver } from '../../../src/drivers/process/process-driver.js';
import { isAlive } from '../../../src/drivers/process/process-group.js';
import { get, killEverything, makeRelease, tempDir, testEnv, waitFor } from './process-fixtures.js';

const driver = createProcessDriver({ supervision: { pollMs: 50, initialBackoffMs: 50 } });

afterAll(async () => {
  await driver.close();
  await killEverything();
});

/** A `sleep` no other test runs, so the test finds exactly its own processes. */
function uniqueSleep(): string {
  return `${randomInt(100_000, 999_999)}.5`;
}

/** Pids of the processes whose command line is `sleep <seconds>`. */
function sleeping(seconds: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('sleep') && argv[1] === seconds && isAlive(Number(name))) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const pidOf = (body: string) => Number(/pid=(\d+)/.exec(body)?.[1]);

describe('process driver: a release is its process group', { timeout: 90_000 }, () => {
  it('killing only the sh -c wrapper does not orphan the app: the supervisor stops its group and starts it again', async () => {
    const sleep = uniqueSleep();
    const base = await testEnv();
    const node = `"${process.execPath}"`;
    // The app forks a child, and the wrapper stays (it waits for both).
    const v1 = await makeRelease(base.env, 'v1', { command: `${node} server.mjs & sleep ${sleep} & wait` });
    const t = { ...base, env: v1.env };
    await driver.deploy(v1, t.ctx);
    const wrapper = (await readEnvState(t.workdir)).processes[v1.sha]!.pid;
    const app = pidOf((await get(t.env.port)).body);
    const child = sleeping(sleep);
    expect(app).not.toBe(wrapper);
    expect(child).toHaveLength(1);

    process.kill(wrapper, 'SIGKILL');

    await waitFor(() => (t.events.some((e) => e.type === 'restarted') ? true : undefined), 'the restart');
    // The old app and its child were stopped, not left running beside the new ones.
    await waitFor(() => (isAlive(app) || isAlive(child[0]!) ? undefined : true), 'the old group to be gone');
    const again = pidOf((await get(t.env.port)).body);
    expect(again).not.toBe(app);
    expect(sleeping(sleep)).toHaveLength(1);
    const state = await readEnvState(t.workdir);
    expect(state.processes[v1.sha]!.pid).not.toBe(wrapper);
    expect(findReleaseGroups(t.workdir).map((g) => g.pgid)).toEqual([state.processes[v1.sha]!.pid]);

    await driver.stop(t.env, t.ctx);
    expect(isAlive(again)).toBe(false);
    expect(sleeping(sleep)).toEqual([]);
    expect(findReleaseGroups(t.workdir)).toEqual([]);
  });

  it('retiring a release stops its whole group, and its grandchildren get their grace to shut down', async () => {
    const sleep = uniqueSleep();
    const marks = await tempDir('gantry-marks-');
    const cleaned = join(marks, 'grandchild-cleaned-up');
    const base = await testEnv({ standby: 0 });
    const node = `"${process.execPath}"`;
    // A subshell (child) that cleans up on TERM, around a sleep (grandchild).
    const graceful = `(trap 'sleep 0.5; touch ${cleaned}; exit 0' TERM; sleep ${sleep} & wait) &`;
    const v1 = await makeRelease(base.env, 'v1', { command: `${graceful} ${node} server.mjs & wait` });
    const v2 = await makeRelease(base.env, 'v2');
    const t = { ...base, env: v1.env };
    await driver.deploy(v1, t.ctx);
    expect(sleeping(sleep)).toHaveLength(1);

    await driver.deploy(v2, { ...t.ctx });
    expect((await get(t.env.port)).body).toMatch(/^v2 /);
    expect(sleeping(sleep)).toEqual([]);
    expect(existsSync(cleaned)).toBe(true);
    expect(findReleaseGroups(t.workdir).map((g) => g.sha)).toEqual([v2.sha]);

    await driver.stop(v2.env, t.ctx);
    expect(findReleaseGroups(t.workdir)).toEqual([]);
  });
});
