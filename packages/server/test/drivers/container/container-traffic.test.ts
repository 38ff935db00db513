import type { ImageArtifact, TrafficReport } from '@gantry/driver-api';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createContainerDriver } from '../../../src/drivers/container/container-driver.js';
import { signalGroup, waitGone } from '../../../src/drivers/process/process-group.js';
import { readProxyState } from '../../../src/drivers/process/proxy-control.js';
import { describeContainers } from '../../support/container-fixtures.js';
import { removeProxiesOfBefore, startProxyOfBefore } from '../process/proxy-of-before.js';
import { buildImage, cleanupContainers, releaseOf, served, testEnv } from './container-fixtures.js';

const fast = { stopTimeoutS: 3, drainTimeoutMs: 3_000, supervision: { initialBackoffMs: 200, pollMs: 100 } };

/** `count` GETs through the proxy, `parallel` at a time; their statuses. */
async function load(port: number, path: string, count: number, parallel = 1): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - i) }, () =>
      fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(10_000) }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      }),
    );
    statuses.push(...(await Promise.all(batch)));
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

describeContainers('container driver: traffic', { timeout: 120_000 }, () => {
  const driver = createContainerDriver(fast);
  let v1: ImageArtifact;
  let v2: ImageArtifact;

  beforeAll(async () => {
    [v1, v2] = await Promise.all([buildImage('v1'), buildImage('v2')]);
  }, 180_000);

  afterAll(async () => {
    await driver.close();
    await cleanupContainers();
    await removeProxiesOfBefore();
  });

  it('reports what each container answered through the proxy, errors and p95 apart, and since a time', async () => {
    const t = await testEnv();
    const [r1, r2] = [releaseOf(t.env, 'v1', v1), releaseOf(t.env, 'v2', v2)];
    const port = t.env.port;
    const started = Date.now();
    await driver.deploy(r1, t.ctx);
    expect(await load(port, '/', 12)).toEqual(Array(12).fill(200));
    expect(await load(port, '/fail', 3)).toEqual([500, 500, 500]);

    await driver.deploy(r2, t.ctx);
    const switched = await nextSecond();
    expect(await load(port, '/', 8)).toEqual(Array(8).fill(200));
    expect(await load(port, '/slow?ms=300', 8, 4)).toEqual(Array(8).fill(200));
    expect(await load(port, '/fail', 1)).toEqual([500]);

    const all = await driver.traffic!(t.env, t.ctx, { sinceMs: started });
    expect(summary(all)).toEqual([
      [r1.sha, 15, 3],
      [r2.sha, 17, 1],
    ]);
    const [before, after] = all.releases;
    // 8 of v2's 17 answers took ≥ 300 ms: its p95 is one of them; v1 had only quick answers.
    expect(after!.p95Ms).toBeGreaterThanOrEqual(250);
    expect(before!.p95Ms).toBeLessThan(after!.p95Ms!);
    expect(summary(await driver.traffic!(t.env, t.ctx, { sinceMs: switched }))).toEqual([[r2.sha, 17, 1]]);

    // A stopped environment has no proxy to ask: an error, not a report of no traffic.
    await driver.stop(t.env, t.ctx);
    await expect(driver.traffic!(t.env, t.ctx, { sinceMs: 0 })).rejects.toThrow(
      `the proxy of qa on port ${port} is not running: no traffic to report`,
    );
  });

  it('says a proxy from before traffic reporting cannot report it, and a deployment replaces it', async () => {
    const t = await testEnv();
    const r1 = releaseOf(t.env, 'v1', v1);
    const oldPid = await startProxyOfBefore(t.workdir, t.env.port);
    await driver.deploy(r1, t.ctx);
    expect((await readProxyState(t.workdir))?.pid).toBe(oldPid);
    expect(await served(t.env.port)).toBe('v1');
    await expect(driver.traffic!(t.env, t.ctx, { sinceMs: 0 })).rejects.toThrow(
      new RegExp(
        `^the proxy of qa \\(pid ${oldPid}\\) predates traffic reporting: .*restart Gantry or deploy to qa`,
      ),
    );

    signalGroup(oldPid, 'SIGTERM');
    await waitGone(oldPid, 5_000);
    await driver.deploy(r1, t.ctx);
    expect((await readProxyState(t.workdir))?.pid).not.toBe(oldPid);
    expect(await served(t.env.port)).toBe('v1');
    expect(summary(await driver.traffic!(t.env, t.ctx, { sinceMs: 0 }))).toEqual([[r1.sha, 1, 0]]);
  });
});
