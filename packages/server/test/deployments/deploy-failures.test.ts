import { createServer, type Server } from 'node:net';
import type { Deployment, EnvironmentState, GantryEvent } from '@gantry/contracts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createDeployableApp,
  deployedTo,
  deploymentDone,
  envPorts,
  serving,
} from '../support/deploy-fixture.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

describe('deployments that go wrong', () => {
  let server: TestServer;
  afterEach(async () => server.close());

  it('a release that never gets healthy fails, and the old one keeps serving', async () => {
    server = await startTestServer();
    const ports = await envPorts();
    const app = await createDeployableApp(server, ports, { healthTimeout: '5s' });
    await deployedTo(server, 'qa', app.v1);
    const broken = await app.pushFiles({ VERSION: 'broken-v2' }, 'broken');
    await server.api('POST', '/api/apps/shop/sync');
    const failed = await deployedTo(server, 'qa', broken);
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('/healthz');
    expect(await serving(ports.qa)).toBe('v1 hello-qa');
    const { body: envs } = await server.api<EnvironmentState[]>('GET', '/api/apps/shop/environments');
    expect(envs.find((e) => e.env === 'qa')).toMatchObject({
      current: { sha: app.v1 },
      health: { healthy: true },
    });
  });

  it('restarts an app that crashes after start and records each crash', async () => {
    server = await startTestServer();
    const ports = await envPorts();
    const app = await createDeployableApp(server, ports);
    await deployedTo(server, 'qa', app.v1);
    await fetch(`http://127.0.0.1:${ports.qa}/crash`).catch(() => undefined);
    const restarted = await waitFor(async () => {
      const { body } = await server.api<GantryEvent[]>('GET', '/api/events?type=environment.app_restarted');
      return body[0];
    }, 'the restart');
    const { body: crashes } = await server.api<GantryEvent[]>(
      'GET',
      '/api/events?type=environment.app_crashed',
    );
    expect(crashes[0]).toMatchObject({ subject: 'qa', data: { sha: app.v1 } });
    expect(restarted.id).toBeGreaterThan(crashes[0]!.id);
    expect(await waitFor(async () => serving(ports.qa).catch(() => undefined), 'serving again')).toBe(
      'v1 hello-qa',
    );
  });

  it("fails clearly when the environment's port is taken by another process", async () => {
    server = await startTestServer();
    const ports = await envPorts();
    const squatter: Server = createServer();
    await new Promise<void>((r) => squatter.listen(ports.qa, '127.0.0.1', r));
    try {
      const app = await createDeployableApp(server, ports);
      const d = await deployedTo(server, 'qa', app.v1);
      expect(d.status).toBe('failed');
      expect(d.error).toContain(`port ${ports.qa}`);
      expect(d.error).toContain('already in use');
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });

  it('a lock stops the line until unlocked; the queue shows positions', async () => {
    server = await startTestServer();
    const ports = await envPorts();
    const app = await createDeployableApp(server, ports);
    await deployedTo(server, 'qa', app.v1);
    const lock = await server.api('POST', '/api/apps/shop/environments/qa/lock', {
      reason: 'incident 42',
      actor: 'bob',
    });
    expect(lock.status).toBe(200);
    const v2 = await app.pushFiles({ VERSION: 'v2' }, 'v2');
    await server.api('POST', '/api/apps/shop/sync');
    const queued = await waitFor(async () => {
      const { body } = await server.api<Deployment[]>('GET', `/api/deployments?app=shop&env=qa`);
      return body.find((d) => d.sha === v2);
    }, 'v2 queued');
    await new Promise((r) => setTimeout(r, 800));
    const still = await server.api<Deployment>('GET', `/api/deployments/${queued.id}`);
    expect(still.body).toMatchObject({ status: 'queued', position: 1 });
    const { body: envs } = await server.api<EnvironmentState[]>('GET', '/api/apps/shop/environments');
    expect(envs.find((e) => e.env === 'qa')?.lock).toMatchObject({ by: 'bob', reason: 'incident 42' });
    expect(await serving(ports.qa)).toBe('v1 hello-qa');
    await server.api('DELETE', '/api/apps/shop/environments/qa/lock');
    expect((await deploymentDone(server, queued.id)).status).toBe('succeeded');
    expect(await serving(ports.qa)).toBe('v2 hello-qa');
  });

  it('runs one deployment per environment at a time; with queue: latest older queued ones are superseded', async () => {
    server = await startTestServer();
    const ports = await envPorts();
    const app = await createDeployableApp(server, ports);
    await deployedTo(server, 'qa', app.v1);
    const v2 = await app.pushFiles({ VERSION: 'v2' }, 'v2');
    const v3 = await app.pushFiles({ VERSION: 'v3' }, 'v3');
    for (const ref of [v2, v3]) {
      const b = await server.api<{ kind: string; build?: { id: string } }>('POST', '/api/builds', {
        app: 'shop',
        ref,
      });
      await waitFor(async () => {
        const { body } = await server.api<{ status: string }>('GET', `/api/builds/${b.body.build!.id}`);
        return body.status === 'succeeded' ? true : undefined;
      }, 'build');
    }
    const requests = await Promise.all(
      [app.v1, v2, v3, v2].map((ref) =>
        server.api<Deployment>('POST', '/api/apps/shop/deployments', { env: 'qa', ref }),
      ),
    );
    const done = await Promise.all(requests.map((r) => deploymentDone(server, r.body.id)));
    const ran = done.filter((d) => d.status === 'succeeded');
    expect(ran.length).toBeGreaterThanOrEqual(1);
    expect(done.every((d) => ['succeeded', 'superseded'].includes(d.status))).toBe(true);
    const spans = ran
      .map((d) => [Date.parse(d.startedAt!), Date.parse(d.finishedAt!)] as const)
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    // The request recorded last wins (ids are time-ordered); concurrent requests arrive in any order.
    const last = [...done].sort((a, b) => (a.id < b.id ? -1 : 1)).at(-1)!;
    expect(last.status).toBe('succeeded');
    const version = new Map([
      [app.v1, 'v1'],
      [v2, 'v2'],
      [v3, 'v3'],
    ]).get(last.sha);
    expect(await serving(ports.qa)).toBe(`${version} hello-qa`);
  });

  it('with queue: fifo every queued deployment runs, in order; --force skips promote_from and is recorded', async () => {
    server = await startTestServer();
    const ports = await envPorts();
    const app = await createDeployableApp(server, ports, { qa: 'queue: fifo' });
    await deployedTo(server, 'qa', app.v1);
    const v2 = await app.pushFiles({ VERSION: 'v2' }, 'v2');
    const b = await server.api<{ build: { id: string } }>('POST', '/api/builds', { app: 'shop', ref: v2 });
    await waitFor(async () => {
      const { body } = await server.api<{ status: string }>('GET', `/api/builds/${b.body.build.id}`);
      return body.status === 'succeeded' ? true : undefined;
    }, 'build');
    const order = [v2, app.v1, v2];
    const requests = [];
    for (const ref of order) {
      requests.push(await server.api<Deployment>('POST', '/api/apps/shop/deployments', { env: 'qa', ref }));
    }
    const done = await Promise.all(requests.map((r) => deploymentDone(server, r.body.id)));
    expect(done.map((d) => d.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const starts = done.map((d) => Date.parse(d.startedAt!));
    expect([...starts].sort((x, y) => x - y)).toEqual(starts);
    expect(await serving(ports.qa)).toBe('v2 hello-qa');

    // v2 passed QA, so staging takes it; v1 never reached staging, so production refuses it unless forced
    const staging = await server.api<Deployment>('POST', '/api/apps/shop/deployments', {
      env: 'staging',
      ref: v2,
    });
    expect(staging.body).toMatchObject({ status: 'queued', forced: false });
    expect((await deploymentDone(server, staging.body.id)).status).toBe('succeeded');
    const prod = await server.api<Deployment>('POST', '/api/apps/shop/deployments', {
      env: 'production',
      ref: app.v1,
      confirm: true,
    });
    expect(prod.body).toMatchObject({
      status: 'rejected',
      error: expect.stringContaining('never deployed healthy to "staging"'),
    });
    const forced = await server.api<Deployment>('POST', '/api/apps/shop/deployments', {
      env: 'production',
      ref: app.v1,
      confirm: true,
      force: true,
    });
    expect(forced.body).toMatchObject({ status: 'queued', forced: true });
    expect((await deploymentDone(server, forced.body.id)).status).toBe('succeeded');
    expect(await serving(ports.production)).toBe('v1');
  });

  it('recovers the deployment history from deploy tags when the database is gone', async () => {
    server = await startTestServer();
    const ports = await envPorts();
    const app = await createDeployableApp(server, ports);
    await deployedTo(server, 'qa', app.v1);
    const res = await server.api<Deployment>('POST', '/api/apps/shop/deployments', {
      env: 'staging',
      ref: 'HEAD',
      tag: true,
      reason: 'rc1',
      actor: 'carol',
    });
    await deploymentDone(server, res.body.id);
    await server.close();

    server = await startTestServer();
    await server.api('POST', '/api/apps', { name: 'shop', repoUrl: app.bare.dir });
    const rec = await server.api<{ recovered: Deployment[]; skipped: number }>(
      'POST',
      '/api/apps/shop/recover',
    );
    expect(rec.body.recovered).toHaveLength(1);
    expect(rec.body.recovered[0]).toMatchObject({
      env: 'staging',
      sha: app.v1,
      trigger: 'recovered',
      status: 'succeeded',
      tag: res.body.tag,
      reason: expect.stringContaining('By: carol'),
    });
    const again = await server.api<{ recovered: Deployment[]; skipped: number }>(
      'POST',
      '/api/apps/shop/recover',
    );
    expect(again.body).toMatchObject({ recovered: [], skipped: 1 });
  });
});
