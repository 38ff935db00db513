import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Deployment, EnvironmentState } from '@gantry/contracts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HealthCache, mapLimit } from '../../src/features/environments/health-cache.js';
import { createApp } from '../support/app-fixture.js';
import { deploymentDone } from '../support/deploy-fixture.js';
import { cleanupAll, makeTempDir } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

describe('HealthCache', () => {
  const answer = (sha: string) => ({ healthy: true, sha });

  it('callers during a probe share it, its answer serves until it is ttl old, then one probe again', async () => {
    let t = 0;
    const cache = new HealthCache(1_000, () => t);
    let probes = 0;
    let finish!: () => void;
    const probe = () => {
      probes++;
      return new Promise<{ healthy: boolean; sha: string }>((r) => {
        finish = () => r(answer(`v${probes}`));
      });
    };
    const first = cache.get('k', probe);
    t = 5_000; // a slow probe: its answer's age starts when it ends
    const second = cache.get('k', probe);
    expect(probes).toBe(1);
    finish();
    expect(await first).toEqual(answer('v1'));
    expect(await second).toEqual(answer('v1'));
    t = 5_999;
    expect(await cache.get('k', probe)).toEqual(answer('v1'));
    t = 6_000;
    const third = cache.get('k', probe);
    finish();
    expect(await third).toEqual(answer('v2'));
    expect(probes).toBe(2);
  });

  it('another key probes on its own, and a failed probe is not kept', async () => {
    const cache = new HealthCache(60_000, () => 0);
    let probes = 0;
    await cache.get('a', async () => answer(`a${++probes}`));
    expect(await cache.get('b', async () => answer(`b${++probes}`))).toEqual(answer('b2'));
    await expect(
      cache.get('c', async () => {
        throw new Error('probe broke');
      }),
    ).rejects.toThrow('probe broke');
    expect(await cache.get('c', async () => answer('c-again'))).toEqual(answer('c-again'));
  });

  it('mapLimit keeps the order and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, n * 3));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(most).toBe(3);
  });
});

describe('GET /api/status with several apps', () => {
  let server: TestServer;
  afterEach(async () => server?.close());

  it('reads at once share each health probe, keep the apps in order, and a new deployment is probed afresh', async () => {
    server = await startTestServer(undefined, { buildsSandbox: 'off' });
    const dir = await makeTempDir('gantry-status-');
    const yaml = (name: string) => `build:
  steps: [{ name: package, run: "mkdir -p dist && cp VERSION dist/" }]
  artifact: { path: dist }
environments:
  qa:
    auto_deploy: true
    driver: command
    deploy: "echo $GANTRY_SHA"
    health: "echo probe >> ${join(dir, `${name}.probes`)}; echo $GANTRY_SHA"
`;
    const deployedTo = async (app: string, sha: string) => {
      const d = await waitFor(async () => {
        const { body } = await server.api<Deployment[]>('GET', `/api/deployments?app=${app}&env=qa`);
        return body.find((x) => x.sha === sha);
      }, `a deployment of ${app} ${sha}`);
      return deploymentDone(server, d.id);
    };
    const names = ['ant', 'bee', 'cat'];
    const apps = [];
    for (const name of names) {
      const app = await createApp(server, yaml(name), { name });
      apps.push(app);
    }
    const shas = [];
    for (const [i, app] of apps.entries()) {
      const sha = await app.pushFiles({ VERSION: '1\n' }, 'v1');
      await server.api('POST', `/api/apps/${names[i]}/sync`);
      shas.push(sha);
    }
    for (const [i, name] of names.entries()) {
      const d = await deployedTo(name, shas[i]!);
      expect(d.status, name).toBe('succeeded');
    }
    const probes = async (name: string) =>
      (await readFile(join(dir, `${name}.probes`), 'utf8').catch(() => '')).split('\n').filter(Boolean)
        .length;
    const before = await Promise.all(names.map(probes));

    const reads = await Promise.all(
      Array.from({ length: 10 }, () => server.api<EnvironmentState[]>('GET', '/api/status')),
    );
    const after = await Promise.all(names.map(probes));
    for (const r of reads) {
      expect(r.status).toBe(200);
      expect(r.body.map((s) => s.app)).toEqual(names);
      expect(r.body.map((s) => s.health?.sha)).toEqual(shas);
    }
    // Ten reads at once: each environment was probed once (twice if a read came after the answer aged).
    for (const [i, name] of names.entries()) {
      expect(after[i]! - before[i]!, name).toBeGreaterThanOrEqual(1);
      expect(after[i]! - before[i]!, name).toBeLessThanOrEqual(3);
    }

    // A new deployment is a new answer at once, not the cached one of the release before.
    const v2 = await apps[0]!.pushFiles({ VERSION: '2\n' }, 'v2');
    await server.api('POST', '/api/apps/ant/sync');
    expect((await deployedTo('ant', v2)).status).toBe('succeeded');
    const status = await server.api<EnvironmentState[]>('GET', '/api/status');
    expect(status.body[0]).toMatchObject({ app: 'ant', health: { healthy: true, sha: v2 } });
    // The per-app route reads through the same answers.
    const one = await server.api<EnvironmentState[]>('GET', '/api/apps/ant/environments');
    expect(one.body[0]!.health).toEqual(status.body[0]!.health);

    // Once the answer is a second old, the next read probes again.
    const seen = await probes('bee');
    await new Promise((r) => setTimeout(r, 1_100));
    await server.api('GET', '/api/status');
    expect(await probes('bee')).toBe(seen + 1);
  });
});
