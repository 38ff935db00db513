import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEnvState } from '../../../src/drivers/process/env-state.js';
import { createProcessDriver } from '../../../src/drivers/process/process-driver.js';
import { isAlive } from '../../../src/drivers/process/process-group.js';
import { readProxyState } from '../../../src/drivers/process/proxy-control.js';
import { get, killEverything, makeRelease, releasePid, testEnv, waitFor } from './process-fixtures.js';

const driver = createProcessDriver();

afterAll(async () => {
  await driver.close();
  await killEverything();
});

describe('process driver: deploy and switch', () => {
  it('serves v1, then v2 with v1 warm, then rolls back to v1 with only a switch', async () => {
    const t = await testEnv();
    const [v1, v2] = [await makeRelease(t.env, 'v1'), await makeRelease(t.env, 'v2')];

    expect(await driver.deploy(v1, t.ctx)).toEqual({ url: `http://127.0.0.1:${t.env.port}`, kind: 'start' });
    expect(t.phases).toEqual(['unpack', 'start', 'health', 'switch', 'drain', 'cleanup']);
    const first = await get(t.env.port);
    expect(first.body).toMatch(/^v1 pid=\d+ env=qa level=debug$/);

    expect((await driver.deploy(v2, t.ctx)).kind).toBe('start');
    expect((await get(t.env.port)).body).toMatch(/^v2 /);
    const v1Pid = await releasePid(t.workdir, v1.sha);
    expect(v1Pid && isAlive(v1Pid)).toBe(true);
    expect(await driver.releases(t.env, t.ctx)).toEqual([
      { sha: v2.sha, digest: v2.artifact.digest, state: 'serving' },
      { sha: v1.sha, digest: v1.artifact.digest, state: 'standby' },
    ]);

    t.phases.length = 0;
    const target = { sha: v1.sha, digest: v1.artifact.digest };
    const plan = driver.plan({ env: t.env, target, releases: await driver.releases(t.env, t.ctx) });
    expect(plan.kind).toBe('switch');
    expect((await driver.deploy(v1, t.ctx)).kind).toBe('switch');
    expect(t.phases).toEqual(['health', 'switch', 'drain', 'cleanup']);
    // The very process that served before: a rollback started nothing.
    expect((await get(t.env.port)).body).toBe(first.body);
    expect(await driver.health(t.env, t.ctx)).toEqual({ healthy: true, sha: v1.sha });

    expect((await driver.deploy(v1, t.ctx)).kind).toBe('noop');
  });

  it('refuses a switch with a lower fence than the proxy has seen (a server that lost the environment to another)', async () => {
    const t = await testEnv();
    const [v1, v2] = [await makeRelease(t.env, 'v1'), await makeRelease(t.env, 'v2')];
    await driver.deploy(v1, { ...t.ctx, fence: 5 });
    expect((await get(t.env.port)).body).toMatch(/^v1 /);
    await expect(driver.deploy(v2, { ...t.ctx, fence: 4 })).rejects.toThrow(
      /another server took the environment over: its proxy refused the switch .*fence 4 < 5/,
    );
    expect((await get(t.env.port)).body).toMatch(/^v1 /);
    await driver.deploy(v2, { ...t.ctx, fence: 6 });
    expect((await get(t.env.port)).body).toMatch(/^v2 /);
  });

  // standby 1: each deployment is a switch to the warm standby; standby 0: each one starts a fresh
  // process and stops the old one once drained.
  it.each([
    { standby: 1, kind: 'switch' },
    { standby: 0, kind: 'start' },
  ])(
    'fails no request during 10 deployments under a constant load (standby $standby)',
    { timeout: 90_000 },
    async ({ standby, kind }) => {
      const t = await testEnv({ standby });
      const [v1, v2] = [await makeRelease(t.env, 'v1'), await makeRelease(t.env, 'v2')];
      await driver.deploy(v1, t.ctx);
      await driver.deploy(v2, t.ctx);

      const agent = new Agent({ keepAlive: true, maxSockets: 20 });
      const counts = { ok: 0, failed: 0, v1: 0, v2: 0 };
      const failures: string[] = [];
      let running = true;
      const client = async () => {
        while (running) {
          try {
            const reply = await get(t.env.port, '/', agent);
            if (reply.status !== 200) throw new Error(`status ${reply.status}: ${reply.body}`);
            counts.ok++;
            if (reply.body.startsWith('v1 ')) counts.v1++;
            if (reply.body.startsWith('v2 ')) counts.v2++;
          } catch (err) {
            counts.failed++;
            failures.push((err as Error).message);
          }
        }
      };
      const clients = Array.from({ length: 20 }, client);
      const kinds: string[] = [];
      try {
        for (let i = 0; i < 10; i++) {
          const before = counts.ok;
          await waitFor(() => (counts.ok > before + 20 ? true : undefined), 'requests between switches');
          kinds.push((await driver.deploy(i % 2 === 0 ? v1 : v2, t.ctx)).kind);
        }
        const before = counts.ok;
        await waitFor(() => (counts.ok > before + 20 ? true : undefined), 'requests after the last switch');
      } finally {
        running = false;
        await Promise.all(clients);
        agent.destroy();
      }
      expect(kinds).toEqual(Array(10).fill(kind));
      expect(failures.slice(0, 5)).toEqual([]);
      expect(counts.failed).toBe(0);
      expect(counts.v1).toBeGreaterThan(0);
      expect(counts.v2).toBeGreaterThan(0);
    },
  );

  it('lets a request in flight finish on the old release before stopping it (standby 0)', async () => {
    const t = await testEnv({ standby: 0 });
    const [v1, v2] = [await makeRelease(t.env, 'v1'), await makeRelease(t.env, 'v2')];
    await driver.deploy(v1, t.ctx);
    const v1Pid = (await releasePid(t.workdir, v1.sha))!;
    const slow = get(t.env.port, '/slow?ms=3000');
    await waitFor(async () => {
      const proxy = await readProxyState(t.workdir);
      return proxy?.inflight.some((r) => r.sha === v1.sha && r.count === 1) ? true : undefined;
    }, 'the slow request to reach v1');

    await driver.deploy(v2, t.ctx);
    expect(await slow).toEqual({ status: 200, body: 'v1 slow' });
    expect(isAlive(v1Pid)).toBe(false);
    expect((await get(t.env.port)).body).toMatch(/^v2 /);
    const state = await readEnvState(t.workdir);
    expect(state.standby).toEqual([]);
    expect(Object.keys(state.processes)).toEqual([v2.sha]);
  });

  it('keeps the last 5 release folders and only serving and standby running', async () => {
    const t = await testEnv();
    const releases = [];
    for (let i = 1; i <= 7; i++) releases.push(await makeRelease(t.env, `v${i}`));
    for (const release of releases) await driver.deploy(release, t.ctx);

    const folders = await readdir(join(t.workdir, 'releases'));
    expect(folders.sort()).toEqual(
      releases
        .slice(2)
        .map((r) => r.sha)
        .sort(),
    );
    const state = await readEnvState(t.workdir);
    expect(state.serving).toBe(releases[6]!.sha);
    expect(state.standby).toEqual([releases[5]!.sha]);
    expect(Object.keys(state.processes).sort()).toEqual([releases[5]!.sha, releases[6]!.sha].sort());
    expect(existsSync(join(t.workdir, 'releases', releases[6]!.sha, 'app.log'))).toBe(true);
    expect((await get(t.env.port)).body).toMatch(/^v7 /);
  });
});
