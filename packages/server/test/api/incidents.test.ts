import type { Deployment, GantryEvent, Incident } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricsReport } from '../../src/features/metrics/engine/index.js';
import { createApp, yamlWithSteps } from '../support/app-fixture.js';
import { createDeployableApp, deployedTo, envPorts } from '../support/deploy-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

afterAll(cleanupAll);

interface ErrorBody {
  error: string;
  message: string;
  details?: unknown;
}

describe.each(engines)('incidents on $name', (engine) => {
  let server: TestServer;
  /** The succeeded deployment of v1 to shop/qa. */
  let qaDeployment: Deployment;
  beforeAll(async () => {
    server = await startTestServer(engine);
    const app = await createDeployableApp(server, await envPorts());
    qaDeployment = await deployedTo(server, 'qa', app.v1);
    expect(qaDeployment.status).toBe('succeeded');
  });
  afterAll(async () => server?.close());

  const open = (body: object) => server.api<Incident & ErrorBody>('POST', '/api/incidents', body);
  const list = async (query = '') => (await server.api<Incident[]>('GET', `/api/incidents${query}`)).body;
  /** A deployment that was refused at once (an undeclared environment): recorded, never run. */
  const rejectedDeployment = async (app: string, env: string) => {
    const res = await server.api<Deployment>('POST', `/api/apps/${app}/deployments`, { env, ref: 'HEAD' });
    expect(res.body).toMatchObject({ status: 'rejected', env });
    return res.body;
  };

  it('opens, lists, resolves, and records every change in the event log', async () => {
    const first = await open({
      app: 'shop',
      env: 'qa',
      deploymentId: qaDeployment.id,
      title: 'Checkout answers 500',
      actor: 'ann',
    });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      id: expect.stringMatching(/^inc_/),
      app: 'shop',
      env: 'qa',
      deploymentId: qaDeployment.id,
      title: 'Checkout answers 500',
      openedAt: expect.any(String),
      openedBy: 'ann (token:admin)',
      resolvedAt: null,
      resolvedBy: null,
    });
    expect(Date.parse(first.body.openedAt)).toBeGreaterThanOrEqual(Date.parse(qaDeployment.finishedAt!));

    const second = await open({ app: 'shop', env: 'staging' });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({
      title: 'Incident in shop/staging',
      deploymentId: null,
      openedBy: 'token:admin',
    });

    expect((await list('?app=shop')).map((i) => i.id)).toEqual([second.body.id, first.body.id]);
    expect((await list('?app=shop&env=qa')).map((i) => i.id)).toEqual([first.body.id]);
    expect((await server.api<Incident>('GET', `/api/incidents/${first.body.id}`)).body).toEqual(first.body);

    const resolved = await server.api<Incident>('POST', `/api/incidents/${first.body.id}/resolve`, {
      actor: 'bob',
    });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({
      id: first.body.id,
      resolvedBy: 'bob (token:admin)',
      resolvedAt: expect.any(String),
    });
    expect(Date.parse(resolved.body.resolvedAt!)).toBeGreaterThanOrEqual(Date.parse(first.body.openedAt));
    expect((await list('?app=shop&open=true')).map((i) => i.id)).toEqual([second.body.id]);
    expect((await list('?app=shop&open=false')).map((i) => i.id)).toEqual([first.body.id]);

    const events = async (type: string) =>
      (await server.api<GantryEvent[]>('GET', `/api/events?type=${type}`)).body;
    const app = await server.gantry.apps.get('shop');
    expect(await events('incident.opened')).toEqual([
      expect.objectContaining({
        appId: app.id,
        subject: first.body.id,
        actor: 'ann (token:admin)',
        data: { incident: first.body },
      }),
      expect.objectContaining({ subject: second.body.id, data: { incident: second.body } }),
    ]);
    expect(await events('incident.resolved')).toEqual([
      expect.objectContaining({
        appId: app.id,
        subject: first.body.id,
        actor: 'bob (token:admin)',
        data: { incident: resolved.body },
      }),
    ]);

    // The metrics engine's view: oldest first, app by name, no deploymentId when none was linked.
    expect(await server.gantry.incidents.listForMetrics({ app: 'shop' })).toEqual([
      {
        id: first.body.id,
        app: 'shop',
        env: 'qa',
        deploymentId: qaDeployment.id,
        openedAt: first.body.openedAt,
        resolvedAt: resolved.body.resolvedAt,
      },
      {
        id: second.body.id,
        app: 'shop',
        env: 'staging',
        openedAt: second.body.openedAt,
        resolvedAt: null,
      },
    ]);
    expect(await server.gantry.incidents.listForMetrics({ app: 'shop', env: 'staging' })).toHaveLength(1);
    expect(await server.gantry.incidents.listForMetrics({ app: 'nope' })).toEqual([]);
  });

  it('refuses to resolve twice, and unknown incidents', async () => {
    const { body: incident } = await open({ app: 'shop', env: 'production', title: 'Slow pages' });
    expect((await server.api('POST', `/api/incidents/${incident.id}/resolve`)).status).toBe(200);
    const again = await server.api<ErrorBody>('POST', `/api/incidents/${incident.id}/resolve`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      error: 'Conflict',
      message: expect.stringContaining(`incident ${incident.id} was already resolved by token:admin`),
    });
    const resolvedEvents = (
      await server.api<GantryEvent[]>('GET', `/api/events?type=incident.resolved&subject=${incident.id}`)
    ).body;
    expect(resolvedEvents).toHaveLength(1);

    for (const [method, path] of [
      ['POST', '/api/incidents/inc_nope/resolve'],
      ['GET', '/api/incidents/inc_nope'],
    ] as const) {
      const res = await server.api<ErrorBody>(method, path);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({
        error: 'NotFound',
        message: expect.stringContaining('no incident "inc_nope"'),
      });
    }
  });

  it('records an incident after the fact, and refuses a resolution before the opening (400 with the reason)', async () => {
    // Two days ago at 10:00 UTC, and times from there.
    const day = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 2 * 86_400_000;
    const t = (h: number, m = 0) => new Date(day + h * 3_600_000 + m * 60_000).toISOString();
    const past = await open({
      app: 'shop',
      env: 'qa',
      openedAt: t(10).replace('T10:00:00.000Z', 'T11:00:00+01:00'),
      resolvedAt: t(10, 45).replace('.000Z', 'Z'),
    });
    expect(past.status).toBe(201);
    expect(past.body).toMatchObject({ openedAt: t(10), resolvedAt: t(10, 45), resolvedBy: 'token:admin' });
    const types = (await server.api<GantryEvent[]>('GET', `/api/events?subject=${past.body.id}`)).body.map(
      (e) => e.type,
    );
    expect(types).toEqual(['incident.opened', 'incident.resolved']);

    const before = await list();
    const backwards = await open({ app: 'shop', env: 'qa', openedAt: t(10), resolvedAt: t(9, 35) });
    expect(backwards.status).toBe(400);
    expect(backwards.body).toMatchObject({
      error: 'InvalidInput',
      message: `resolvedAt: ${t(9, 35)} is before the incident opened (${t(10)}); an incident cannot be resolved before it opens`,
    });
    const future = await open({ app: 'shop', env: 'qa', openedAt: '2999-01-01T00:00:00Z' });
    expect(future.status).toBe(400);
    expect(future.body.message).toContain('openedAt: 2999-01-01T00:00:00Z is in the future');
    const zoneless = await open({ app: 'shop', env: 'qa', openedAt: t(10).slice(0, 16).replace('T', ' ') });
    expect(zoneless.status).toBe(400);
    expect(zoneless.body.message).toContain('openedAt: expected an ISO-8601 time with a zone');
    expect(await list()).toEqual(before);

    const { body: incident } = await open({ app: 'shop', env: 'qa', openedAt: t(10) });
    const resolve = (body: object) =>
      server.api<Incident & ErrorBody>('POST', `/api/incidents/${incident.id}/resolve`, body);
    const early = await resolve({ resolvedAt: t(9, 35) });
    expect(early.status).toBe(400);
    expect(early.body.message).toBe(
      `resolvedAt: ${t(9, 35)} is before the incident opened (${t(10)}); an incident cannot be resolved before it opens`,
    );
    expect((await server.api<Incident>('GET', `/api/incidents/${incident.id}`)).body.resolvedAt).toBeNull();
    const ok = await resolve({ resolvedAt: t(10, 25) });
    expect(ok.status).toBe(200);
    expect(ok.body.resolvedAt).toBe(t(10, 25));

    // What the metrics read back: never a negative time to restore.
    const r = await server.api<MetricsReport>('GET', `/api/metrics?app=shop&env=qa&from=${t(0)}&to=${t(24)}`);
    expect(r.body.timeToRestore).toMatchObject({ n: 2, median: 35 * 60_000, outOfOrder: [] });
  });

  it('refuses an unknown app, an environment the app does not have, and a deployment that does not fit', async () => {
    const before = await list();

    const noApp = await open({ app: 'ghost', env: 'qa' });
    expect(noApp.status).toBe(404);
    expect(noApp.body.message).toContain('no app named "ghost"');

    const noEnv = await open({ app: 'shop', env: 'moon' });
    expect(noEnv.status).toBe(400);
    expect(noEnv.body).toMatchObject({
      error: 'InvalidInput',
      message: 'app "shop" has no environment "moon"; its environments are qa, staging, production',
    });

    await createApp(server, yamlWithSteps(['true']), { name: 'blog' });
    const bare = await open({ app: 'blog', env: 'qa' });
    expect(bare.status).toBe(400);
    expect(bare.body.message).toContain('app "blog" has no environments yet');

    const noDeployment = await open({ app: 'shop', env: 'qa', deploymentId: 'dep_nope' });
    expect(noDeployment.status).toBe(404);
    expect(noDeployment.body.message).toContain('no deployment "dep_nope"');

    const otherEnv = await rejectedDeployment('shop', 'moon');
    const wrongEnv = await open({ app: 'shop', env: 'qa', deploymentId: otherEnv.id });
    expect(wrongEnv.status).toBe(400);
    expect(wrongEnv.body.message).toContain(`deployment ${otherEnv.id} is of shop/moon, not shop/qa`);

    const otherApp = await rejectedDeployment('blog', 'qa');
    const wrongApp = await open({ app: 'shop', env: 'qa', deploymentId: otherApp.id });
    expect(wrongApp.status).toBe(400);
    expect(wrongApp.body.message).toContain(`deployment ${otherApp.id} is of blog/qa, not shop/qa`);

    const typo = await open({ app: 'shop', env: 'qa', deployment: qaDeployment.id });
    expect(typo.status).toBe(400);
    expect(typo.body.error).toBe('InvalidInput');
    const badFilter = await server.api<ErrorBody>('GET', '/api/incidents?open=yes');
    expect(badFilter.status).toBe(400);
    const badApp = await server.api<ErrorBody>('GET', '/api/incidents?app=ghost');
    expect(badApp.status).toBe(404);

    expect(await list()).toEqual(before);
  });

  it('takes an admin token (a hook token may not open incidents) and is described in OpenAPI', async () => {
    const { body } = await server.api<{ token: string }>('POST', '/api/tokens', {
      name: 'h',
      role: 'hook',
      app: 'shop',
    });
    const res = await fetch(`${server.url}/api/incidents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${body.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ app: 'shop', env: 'qa' }),
    });
    expect(res.status).toBe(403);
    expect((await fetch(`${server.url}/api/incidents`)).status).toBe(401);
    const { body: spec } = await server.api<{ paths: Record<string, unknown> }>('GET', '/api/openapi.json');
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/api/incidents', '/api/incidents/{id}', '/api/incidents/{id}/resolve']),
    );
  });
});
