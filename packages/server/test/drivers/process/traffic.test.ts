import { request } from 'node:http';
import type { TrafficReport } from '@gantry/driver-api';
import { afterAll, describe, expect, it } from 'vitest';
import { createProcessDriver } from '../../../src/drivers/process/process-driver.js';
import { signalGroup, waitGone } from '../../../src/drivers/process/process-group.js';
import { readProxyState, setProxyUpstream } from '../../../src/drivers/process/proxy-control.js';
import { proxyFiles } from '../../../src/drivers/process/proxy-files.js';
import { freePort, get, killEverything, makeRelease, testEnv } from './process-fixtures.js';
import { removeProxiesOfBefore, startProxyOfBefore } from './proxy-of-before.js';

const driver = createProcessDriver({ drainTimeoutMs: 2_000 });

afterAll(async () => {
  await driver.close();
  await killEverything();
  await removeProxiesOfBefore();
});

/** `count` GETs through the proxy, `parallel` at a time; their statuses. */
async function load(port: number, path: string, count: number, parallel = 1): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - i) }, () => get(port, path));
    statuses.push(...(await Promise.all(batch)).map((r) => r.status));
  }
  return statuses;
}

/** A whole second at least one second from now, once it has come: what was answered before lies before it. */
async function nextSecond(): Promise<number> {
  const at = (Math.floor(Date.now() / 1000) + 2) * 1000;
  await new Promise((r) => setTimeout(r, at - Date.now()));
  return at;
}

const summary = (report: TrafficReport) => report.releases.map((r) => [r.sha, r.requests, r.errors]);

describe('process driver: traffic', { timeout: 60_000 }, () => {
  it('reports what each release answered through the proxy, errors and p95 apart, and since a time', async () => {
    const t = await testEnv();
    const [v1, v2] = [await makeRelease(t.env, 'v1'), await makeRelease(t.env, 'v2')];
    const port = t.env.port;
    const started = Date.now();
    await driver.deploy(v1, t.ctx);
    expect(await load(port, '/', 18)).toEqual(Array(18).fill(200));
    expect(await load(port, '/fail', 2)).toEqual([500, 500]);

    await driver.deploy(v2, t.ctx);
    const switched = await nextSecond();
    expect(await load(port, '/', 10)).toEqual(Array(10).fill(200));
    expect(await load(port, '/slow?ms=300', 10, 5)).toEqual(Array(10).fill(200));
    expect(await load(port, '/fail', 5)).toEqual(Array(5).fill(500));

    const all = await driver.traffic!(t.env, t.ctx, { sinceMs: started });
    expect(summary(all)).toEqual([
      [v1.sha, 20, 2],
      [v2.sha, 25, 5],
    ]);
    // The proxy started after `started` and knows nothing from before it.
    expect(all.coveredFromMs).toBeGreaterThanOrEqual(started);
    const [before, after] = all.releases;
    // 10 of v2's 25 answers took ≥ 300 ms: its p95 is one of them; v1 had only quick answers.
    expect(after!.p95Ms).toBeGreaterThanOrEqual(250);
    expect(before!.p95Ms).toBeLessThan(after!.p95Ms!);

    expect(summary(await driver.traffic!(t.env, t.ctx, { sinceMs: switched }))).toEqual([[v2.sha, 25, 5]]);

    // A rollback is a switch back to the warm v1: its answers count for v1 again, after v2's.
    await driver.deploy(v1, t.ctx);
    expect(await load(port, '/', 3)).toEqual([200, 200, 200]);
    expect(summary(await driver.traffic!(t.env, t.ctx, { sinceMs: switched }))).toEqual([
      [v2.sha, 25, 5],
      [v1.sha, 3, 0],
    ]);

    // The proxy's own 502, when the upstream it switched to does not answer, is an error of that SHA.
    const dead = 'dead'.repeat(10);
    await setProxyUpstream(t.workdir, { port: await freePort(), sha: dead });
    expect(await load(port, '/', 4)).toEqual(Array(4).fill(502));
    const withDead = await driver.traffic!(t.env, t.ctx, { sinceMs: switched });
    expect(summary(withDead).at(-1)).toEqual([dead, 4, 4]);
  });

  it('refuses a since that is no time, and says when there is no proxy to ask', async () => {
    const t = await testEnv();
    await driver.deploy(await makeRelease(t.env, 'v1'), t.ctx);
    await expect(driver.traffic!(t.env, t.ctx, { sinceMs: Number.NaN })).rejects.toThrow(
      /epoch milliseconds/,
    );
    expect(await controlGet(t.workdir, '/traffic?since=yesterday')).toEqual({
      status: 400,
      body: { error: 'expected ?since=<epoch ms>' },
    });
    expect(await controlGet(t.workdir, '/traffic')).toMatchObject({ status: 400 });
    const empty = await driver.traffic!(t.env, t.ctx, { sinceMs: Date.now() });
    expect(empty.releases).toEqual([]);

    await driver.stop(t.env, t.ctx);
    await expect(driver.traffic!(t.env, t.ctx, { sinceMs: 0 })).rejects.toThrow(
      `the proxy of qa on port ${t.env.port} is not running: no traffic to report`,
    );
  });

  it("says a proxy from before traffic reporting cannot report it, and what replaces it, never 'no traffic'", async () => {
    const t = await testEnv();
    const v1 = await makeRelease(t.env, 'v1');
    const oldPid = await startProxyOfBefore(t.workdir, t.env.port);
    await driver.deploy(v1, t.ctx);
    // Adopted, as after an upgrade of Gantry: the old proxy keeps serving.
    expect((await readProxyState(t.workdir))?.pid).toBe(oldPid);
    expect((await get(t.env.port)).body).toMatch(/^v1 /);

    const error = await driver.traffic!(t.env, t.ctx, { sinceMs: 0 }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      new RegExp(`^the proxy of qa \\(pid ${oldPid}\\) predates traffic reporting: .*stop that process`),
    );
    expect((error as Error).message).toContain(`restart Gantry or deploy to qa`);

    // What the message says to do works: a deployment starts a current proxy on the same release.
    signalGroup(oldPid, 'SIGTERM');
    await waitGone(oldPid, 5_000);
    await driver.deploy(v1, t.ctx);
    expect((await readProxyState(t.workdir))?.pid).not.toBe(oldPid);
    expect((await get(t.env.port)).body).toMatch(/^v1 /);
    expect(summary(await driver.traffic!(t.env, t.ctx, { sinceMs: 0 }))).toEqual([[v1.sha, 1, 0]]);
  });
});

function controlGet(workdir: string, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: proxyFiles(workdir).socket, path, agent: false }, async (res) => {
      let text = '';
      for await (const chunk of res) text += chunk;
      resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
    });
    req.on('error', reject);
    req.end();
  });
}
