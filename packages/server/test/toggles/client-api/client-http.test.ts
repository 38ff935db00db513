import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, yamlWithSteps } from '../../support/app-fixture.js';
import { engines } from '../../support/engines.js';
import { cleanupAll } from '../../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { clientToken, sdkFetch } from './client-api-fixture.js';

afterAll(cleanupAll);

type Features = {
  version: number;
  features: { name: string; enabled: boolean; project: string; strategies: Record<string, unknown>[] }[];
  segments?: { id: number; name: string; constraints: unknown[] }[];
  query: Record<string, unknown>;
};

const metrics = (toggles: Record<string, unknown>) => ({
  appName: 'web',
  instanceId: 'i-1',
  bucket: { start: new Date().toISOString(), stop: new Date().toISOString(), toggles },
});

describe.each(engines)('Unleash client API over HTTP on $name', (engine) => {
  let server: TestServer;
  let token: string;
  beforeEach(async () => {
    server = await startTestServer(engine);
    await createApp(server, yamlWithSteps(['true']));
    token = await clientToken(server, 'shop', 'production');
  });
  afterEach(async () => server.close());

  it('issues tokens in Unleash format, stored hashed and fixed to app and environment', async () => {
    expect(token).toMatch(/^shop:production\.[0-9a-f]{32}$/);
    const row = await server.gantry.database.db
      .selectFrom('tokens')
      .selectAll()
      .where('role', '=', 'client')
      .executeTakeFirstOrThrow();
    expect(row.hash).not.toContain(token.split('.')[1]);
    expect(row).toMatchObject({ env: 'production', app_id: (await server.gantry.apps.get('shop')).id });
    const bad = await server.api('POST', '/api/apps/shop/client-tokens', { env: 'Prod!' });
    expect(bad.status).toBe(400);
    expect((await server.api('POST', '/api/apps/nope/client-tokens', { env: 'qa' })).status).toBe(404);
  });

  it('401 for a missing or unknown token, 403 for the wrong kind either way', async () => {
    const none = await sdkFetch(server, '/api/client/features', undefined);
    expect(none.status).toBe(401);
    const unknown = await sdkFetch(server, '/api/client/features', 'shop:production.deadbeef');
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toMatchObject({ message: expect.stringContaining('unknown client token') });

    const admin = await sdkFetch(server, '/api/client/features', server.token);
    expect(admin.status).toBe(403);
    expect(await admin.json()).toMatchObject({ message: expect.stringContaining('needs a client token') });
    const adminBearer = await sdkFetch(server, '/api/client/metrics', `Bearer ${server.token}`, {
      method: 'POST',
      body: metrics({}),
    });
    expect(adminBearer.status).toBe(403);
    const hook = await server.api<{ token: string }>('POST', '/api/tokens', {
      name: 'h',
      role: 'hook',
      app: 'shop',
    });
    expect(hook.status).toBe(201);
    expect((await sdkFetch(server, '/api/client/features', hook.body.token)).status).toBe(403);

    for (const path of ['/api/apps', '/api/apps/shop/toggles', '/api/events']) {
      const res = await sdkFetch(server, path, token);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({
        message: expect.stringContaining('client token may only call'),
      });
    }
    expect((await sdkFetch(server, '/api/apps', `Bearer ${token}`)).status).toBe(403);

    // The admin token works raw too, and a client token with `Bearer`.
    expect((await sdkFetch(server, '/api/apps', server.token)).status).toBe(200);
    expect((await sdkFetch(server, '/api/client/features', `Bearer ${token}`)).status).toBe(200);
  });

  it("serves the token's environment with an ETag per revision and 304 while it holds", async () => {
    await server.api('POST', '/api/apps/shop/toggles', { name: 'checkout', description: 'new flow' });
    await server.api('POST', '/api/apps/shop/toggles', { name: 'gone' });
    await server.api('PUT', '/api/apps/shop/toggles/checkout/environments/production', {
      enabled: true,
      strategies: [
        { name: 'default', disabled: true },
        { name: 'userWithId', parameters: { userIds: '1,2' } },
      ],
    });
    await server.api('PUT', '/api/apps/shop/toggles/gone/environments/production', { enabled: true });
    await server.api('POST', '/api/apps/shop/toggles/gone/archive');

    const first = await sdkFetch(server, '/api/client/features', token, {
      headers: { 'unleash-client-spec': '5.2.0' },
    });
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    const app = await server.gantry.apps.get('shop');
    const rev = await server.gantry.toggles.readStore().revision(app.id, 'production');
    expect(etag).toBe(`"${app.id}:production:${rev}:segments"`);
    const body = (await first.json()) as Features;
    expect(body).toEqual({
      version: 2,
      features: [
        {
          name: 'checkout',
          type: 'release',
          description: 'new flow',
          enabled: true,
          stale: false,
          impressionData: false,
          project: 'shop',
          strategies: [{ name: 'userWithId', constraints: [], parameters: { userIds: '1,2' } }],
          variants: [],
        },
      ],
      segments: [],
      query: { environment: 'production', inlineSegmentConstraints: false },
      meta: { revisionId: rev, etag, queryHash: 'segments' },
    });

    const again = await sdkFetch(server, '/api/client/features', token, {
      headers: { 'unleash-client-spec': '5.2.0', 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);

    // Another environment's change leaves this ETag alone; this environment's change moves it.
    await server.api('PUT', '/api/apps/shop/toggles/checkout/environments/staging', { enabled: true });
    const still = await sdkFetch(server, '/api/client/features', token, {
      headers: { 'unleash-client-spec': '5.2.0', 'if-none-match': etag },
    });
    expect(still.status).toBe(304);
    await server.api('PUT', '/api/apps/shop/toggles/checkout/environments/production', { enabled: false });
    const changed = await sdkFetch(server, '/api/client/features', token, {
      headers: { 'unleash-client-spec': '5.2.0', 'if-none-match': etag },
    });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(((await changed.json()) as Features).features[0]!.enabled).toBe(false);

    // A toggle with no row for this environment is served, off.
    await server.api('POST', '/api/apps/shop/toggles', { name: 'later' });
    const withLater = (await (await sdkFetch(server, '/api/client/features', token)).json()) as Features;
    expect(withLater.features.find((f) => f.name === 'later')).toMatchObject({
      enabled: false,
      strategies: [],
    });
  });

  it('sends segments apart to spec ≥ 4.2.0 and inlines them for older or unnamed clients', async () => {
    const seg = await server.api<{ id: number }>('PUT', '/api/apps/shop/segments/beta', {
      constraints: [{ contextName: 'country', operator: 'IN', values: ['NO'] }],
    });
    await server.api('POST', '/api/apps/shop/toggles', { name: 'beta-only' });
    await server.api('PUT', '/api/apps/shop/toggles/beta-only/environments/production', {
      enabled: true,
      strategies: [
        {
          name: 'default',
          constraints: [{ contextName: 'userId', operator: 'IN', values: ['7'] }],
          segments: [seg.body.id],
        },
      ],
    });
    const get = async (spec?: string) => {
      const res = await sdkFetch(server, '/api/client/features', token, {
        headers: spec ? { 'unleash-client-spec': spec } : {},
      });
      return { etag: res.headers.get('etag'), body: (await res.json()) as Features };
    };
    const modern = await get('4.2.0');
    expect(modern.body.features[0]!.strategies[0]).toMatchObject({ segments: [seg.body.id] });
    expect(modern.body.segments).toEqual([
      {
        id: seg.body.id,
        name: 'beta',
        constraints: [{ contextName: 'country', operator: 'IN', values: ['NO'] }],
      },
    ]);
    for (const old of [await get('4.1.9'), await get('3.0.0'), await get()]) {
      expect(old.body.segments).toBeUndefined();
      expect(old.body.query.inlineSegmentConstraints).toBe(true);
      expect(old.body.features[0]!.strategies[0]).toEqual({
        name: 'default',
        parameters: {},
        constraints: [
          { contextName: 'userId', operator: 'IN', values: ['7'] },
          { contextName: 'country', operator: 'IN', values: ['NO'] },
        ],
      });
      expect(old.etag).not.toBe(modern.etag);
    }
  });

  it('filters by namePrefix with its own ETag', async () => {
    for (const name of ['web.a', 'web.b', 'api.c'])
      await server.api('POST', '/api/apps/shop/toggles', { name });
    const all = await sdkFetch(server, '/api/client/features', token);
    const web = await sdkFetch(server, '/api/client/features?namePrefix=web.', token);
    expect(((await web.json()) as Features).features.map((f) => f.name)).toEqual(['web.a', 'web.b']);
    expect(web.headers.get('etag')).not.toBe(all.headers.get('etag'));
    const cached = await sdkFetch(server, '/api/client/features?namePrefix=web.', token, {
      headers: { 'if-none-match': web.headers.get('etag')! },
    });
    expect(cached.status).toBe(304);
  });

  it('accepts register and metrics with 202, rejects malformed metrics with 400, and counts usage', async () => {
    await server.api('POST', '/api/apps/shop/toggles', { name: 'checkout' });
    const reg = await sdkFetch(server, '/api/client/register', token, {
      method: 'POST',
      headers: { 'unleash-interval': 'undefined' },
      body: {
        appName: 'web',
        instanceId: 'i-1',
        sdkVersion: 'unleash-node-sdk:6.12.1',
        strategies: ['default'],
        started: new Date().toISOString(),
        interval: 500,
      },
    });
    expect(reg.status).toBe(202);
    const ok = await sdkFetch(server, '/api/client/metrics', token, {
      method: 'POST',
      body: metrics({ checkout: { yes: 3, no: 1, variants: { blue: 2, disabled: 1 } } }),
    });
    expect(ok.status).toBe(202);
    const malformed: [string, unknown][] = [
      ['no bucket', { appName: 'web' }],
      ['negative count', metrics({ checkout: { yes: -1, no: 0 } })],
      ['count as text', metrics({ checkout: { yes: 'many', no: 0 } })],
      ['bad date', { ...metrics({}), bucket: { start: 'yesterday-ish', stop: 'now', toggles: {} } }],
    ];
    for (const [what, body] of malformed) {
      const res = await sdkFetch(server, '/api/client/metrics', token, { method: 'POST', body });
      expect(res.status, what).toBe(400);
    }
    const notJson = await fetch(`${server.url}/api/client/metrics`, {
      method: 'POST',
      headers: { authorization: token, 'content-type': 'application/json' },
      body: '{"appName":',
    });
    expect(notJson.status).toBe(400);

    await server.gantry.clientApi.metrics.flush();
    const usage = await server.api<Record<string, unknown>>('GET', '/api/apps/shop/toggles/checkout/usage');
    expect(usage.status).toBe(200);
    expect(usage.body).toMatchObject({
      app: 'shop',
      toggle: 'checkout',
      yes: 3,
      no: 1,
      lastSeenAt: expect.any(String),
      hours: [{ env: 'production', appName: 'web', yes: 3, no: 1, variants: { blue: 2, disabled: 1 } }],
    });
    const instances = await server.api<Record<string, unknown>[]>('GET', '/api/apps/shop/client-instances');
    expect(instances.body).toEqual([
      expect.objectContaining({
        env: 'production',
        appName: 'web',
        instanceId: 'i-1',
        sdkVersion: 'unleash-node-sdk:6.12.1',
        strategies: ['default'],
        intervalMs: 500,
      }),
    ]);
    expect((await server.api('GET', '/api/apps/shop/toggles/nope/usage')).status).toBe(404);
  });

  it('rate-limits register and metrics per token with 429', async () => {
    const other = await clientToken(server, 'shop', 'staging');
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) {
      const res = await sdkFetch(server, '/api/client/metrics', token, { method: 'POST', body: metrics({}) });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 202)).toBe(true);
    expect(statuses.slice(11)).toContain(429);
    const fresh = await sdkFetch(server, '/api/client/metrics', other, { method: 'POST', body: metrics({}) });
    expect(fresh.status).toBe(202);
  });
});
