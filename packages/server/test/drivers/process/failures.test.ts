import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEnvState } from '../../../src/drivers/process/env-state.js';
import { findReleaseGroups } from '../../../src/drivers/process/find-release-processes.js';
import { createProcessDriver } from '../../../src/drivers/process/process-driver.js';
import { get, killEverything, makeRelease, releasePid, testEnv, waitFor } from './process-fixtures.js';

const driver = createProcessDriver();
const impatient = createProcessDriver({ supervision: { initialBackoffMs: 20, maxCrashes: 3 } });
const servers: Server[] = [];

afterAll(async () => {
  await driver.close();
  await impatient.close();
  for (const server of servers) server.close();
  await killEverything();
});

const shortOf = (sha: string) => sha.slice(0, 7);

describe('process driver: failures', () => {
  it('rejects a release that never gets healthy, stops it, and the old one keeps serving', async () => {
    const t = await testEnv();
    t.env.run!.health.timeoutMs = 4_000;
    const [good, bad] = [
      await makeRelease(t.env, 'good'),
      await makeRelease(t.env, 'bad', { healthy: false }),
    ];
    await driver.deploy(good, t.ctx);

    const error = await driver.deploy(bad, t.ctx).then(
      () => null,
      (err: Error) => err,
    );
    expect(error?.message).toMatch(
      new RegExp(
        `^release ${shortOf(bad.sha)} did not answer /healthz with 2xx within 4 s; last log lines:\\n`,
      ),
    );
    expect(error?.message).toContain('bad listening on');
    expect(error?.message).toContain('GET /healthz answered 500');
    expect((await get(t.env.port)).body).toMatch(/^good /);
    expect(await driver.health(t.env, t.ctx)).toEqual({ healthy: true, sha: good.sha });
    const state = await readEnvState(t.workdir);
    expect(state.serving).toBe(good.sha);
    expect(Object.keys(state.processes)).toEqual([good.sha]);
    expect(findReleaseGroups(t.workdir).map((g) => g.sha)).toEqual([good.sha]);
  });

  it('fails fast with the exit code when the release exits before it is healthy', async () => {
    const t = await testEnv();
    const good = await makeRelease(t.env, 'good');
    const broken = await makeRelease(t.env, 'broken', { command: 'echo "cannot find config" >&2; exit 3' });
    await driver.deploy(good, t.ctx);
    await expect(driver.deploy(broken, t.ctx)).rejects.toThrow(
      `release ${shortOf(broken.sha)} exited with code 3 before answering /healthz with 2xx; last log lines:\ncannot find config`,
    );
    expect((await get(t.env.port)).body).toMatch(/^good /);
  });

  it('stops the new release when the deployment is aborted, and the old one keeps serving', async () => {
    const t = await testEnv();
    const [good, slow] = [
      await makeRelease(t.env, 'good'),
      await makeRelease(t.env, 'slow', { healthyAfterMs: 60_000 }),
    ];
    await driver.deploy(good, t.ctx);
    t.ctx.phase = (name) => {
      if (name === 'health') setTimeout(() => t.abort.abort(), 200);
    };
    await expect(driver.deploy(slow, t.ctx)).rejects.toThrow(
      `the deployment of ${shortOf(slow.sha)} was cancelled`,
    );
    expect((await get(t.env.port)).body).toMatch(/^good /);
    expect(findReleaseGroups(t.workdir).map((g) => g.sha)).toEqual([good.sha]);
  });

  it('restarts an app that crashes after it started, and reports the crash and the restart', async () => {
    const t = await testEnv();
    const release = await makeRelease(t.env, 'flaky', { crashAfterMs: 300, crashOnce: true });
    await driver.deploy(release, t.ctx);
    const firstPid = await releasePid(t.workdir, release.sha);

    await waitFor(() => (t.events.some((e) => e.type === 'restarted') ? true : undefined), 'a restart');
    expect(t.events).toEqual([
      { type: 'crashed', sha: release.sha, exitCode: 3, signal: null, restartInMs: 500 },
      { type: 'restarted', sha: release.sha },
    ]);
    expect(await releasePid(t.workdir, release.sha)).not.toBe(firstPid);
    expect((await get(t.env.port)).body).toMatch(/^flaky /);
    expect(await driver.health(t.env, t.ctx)).toEqual({ healthy: true, sha: release.sha });
  });

  it('gives up after crashes in a row, backing off exponentially', async () => {
    const t = await testEnv();
    const release = await makeRelease(t.env, 'doomed', { crashAfterMs: 300 });
    await impatient.deploy(release, t.ctx);

    await waitFor(() => (t.events.some((e) => e.type === 'gave-up') ? true : undefined), 'giving up');
    expect(t.events).toEqual([
      { type: 'crashed', sha: release.sha, exitCode: 3, signal: null, restartInMs: 20 },
      { type: 'restarted', sha: release.sha },
      { type: 'crashed', sha: release.sha, exitCode: 3, signal: null, restartInMs: 40 },
      { type: 'restarted', sha: release.sha },
      { type: 'gave-up', sha: release.sha, crashes: 3 },
    ]);
    const health = await impatient.health(t.env, t.ctx);
    expect(health.healthy).toBe(false);
    expect(findReleaseGroups(t.workdir)).toEqual([]);
  });

  it('refuses an environment port that another process holds, starting nothing', async () => {
    const t = await testEnv();
    const squatter = createServer();
    servers.push(squatter);
    await new Promise<void>((resolve) => squatter.listen(t.env.port, '127.0.0.1', resolve));
    const release = await makeRelease(t.env, 'v1');

    await expect(driver.deploy(release, t.ctx)).rejects.toThrow(
      `port ${t.env.port} for environment qa is already in use by another process; choose another port in gantry.yaml`,
    );
    expect(t.phases).toEqual([]);
    expect(findReleaseGroups(t.workdir)).toEqual([]);
    expect(existsSync(join(t.workdir, 'proxy.pid'))).toBe(false);
  });
});
