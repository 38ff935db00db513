import { UnleashClient } from 'unleash-proxy-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../../support/engines.js';
import { cleanupAll } from '../../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../../support/test-server.js';
import { admin } from '../ofrep/ofrep-fixture.js';
import { frontendFixture, sdkToken } from './frontend-fixture.js';

afterAll(cleanupAll);

type Toggle = { name: string; enabled: boolean; variant: Record<string, unknown>; impressionData: boolean };

describe.each(engines)('the Unleash Frontend API on $name', (engine) => {
  let server: TestServer;
  let frontend: string;
  let client: string;

  const call = (path: string, token: string | undefined, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: { ...(token && { authorization: token }), ...(init.headers as Record<string, string>) },
    });
  const names = async (res: Response) =>
    ((await res.json()) as { toggles: Toggle[] }).toggles.map((t) => t.name);

  beforeAll(async () => {
    server = await startTestServer(engine);
    await frontendFixture(server);
    frontend = await sdkToken(server, 'frontend');
    client = await sdkToken(server, 'client');
  });
  afterAll(async () => server.close());

  it('answers only the toggles enabled for the context, with variants, in Unleash frontend format', async () => {
    const res = await call('/api/frontend?userId=vip&properties%5Bplan%5D=pro', frontend);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { toggles: Toggle[] };
    expect(body.toggles.map((t) => t.name).sort()).toEqual(['button-colour', 'new-checkout', 'pro-only']);
    expect(body.toggles.find((t) => t.name === 'button-colour')).toEqual({
      name: 'button-colour',
      enabled: true,
      variant: {
        name: 'green',
        enabled: true,
        feature_enabled: true,
        payload: { type: 'string', value: '#0f0' },
      },
      impressionData: false,
    });
    expect(body.toggles.find((t) => t.name === 'new-checkout')?.variant).toEqual({
      name: 'disabled',
      enabled: false,
      feature_enabled: true,
    });
    // Unknown top-level fields are properties, as unleash-server reads them; POST takes `{ context }`.
    expect((await names(await call('/api/frontend?userId=alice&plan=basic', frontend))).sort()).toEqual([
      'beta',
      'button-colour',
      'new-checkout',
    ]);
    const post = await call('/api/frontend', frontend, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ context: { userId: 'bob', properties: { plan: 'pro' } } }),
    });
    expect((await names(post)).sort()).toEqual(['beta', 'button-colour', 'new-checkout', 'pro-only']);
    const one = await call('/api/frontend/features/beta?userId=alice', frontend);
    expect(await one.json()).toMatchObject({ name: 'beta', enabled: true });
    expect((await call('/api/frontend/features/beta?userId=carol', frontend)).status).toBe(404);
  });

  it('fixes the environment by the token, and sends 304 for an unchanged answer', async () => {
    const staging = await sdkToken(server, 'frontend', 'staging');
    expect(await names(await call('/api/frontend?environment=production', staging))).not.toContain(
      'new-checkout',
    );
    const first = await call('/api/frontend?userId=alice', frontend);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^".+"$/);
    const again = await call('/api/frontend?userId=alice', frontend, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    const other = await call('/api/frontend?userId=carol', frontend, { headers: { 'if-none-match': etag! } });
    expect(other.status).toBe(200);
  });

  it('takes frontend tokens only on /api/frontend, and client tokens never there', async () => {
    expect((await call('/api/frontend', undefined)).status).toBe(401);
    expect((await call('/api/frontend', 'shop:production.nope')).status).toBe(401);
    expect((await call('/api/frontend', client)).status).toBe(403);
    expect((await call('/api/frontend', `Bearer ${server.token}`)).status).toBe(403);
    expect((await call('/api/client/features', frontend)).status).toBe(403);
    expect((await call('/ofrep/v1/evaluate/flags', frontend, { method: 'POST' })).status).toBe(403);
    expect((await call('/api/apps', frontend)).status).toBe(403);
    expect((await call('/api/client/features', client)).status).toBe(200);
    const bad = await server.api('POST', '/api/apps/shop/client-tokens', {
      env: 'production',
      kind: 'admin',
    });
    expect(bad.status).toBe(400);
  });

  it('answers CORS preflights without a token and allows any origin by default', async () => {
    const pre = await fetch(`${server.url}/api/frontend`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization,unleash-sdk,unleash-appname,unleash-connection-id',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toContain('unleash-connection-id');
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    const res = await call('/api/frontend', frontend, { headers: { origin: 'https://shop.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toMatch(/etag/i);
    // Only the Frontend API answers other origins.
    const admin = await fetch(`${server.url}/api/apps`, {
      method: 'OPTIONS',
      headers: { origin: 'https://x' },
    });
    expect(admin.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('accepts metrics and registrations from frontend SDKs and counts the usage', async () => {
    const post = (path: string, body: unknown) =>
      call(path, frontend, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const reg = await post('/api/frontend/client/register', {
      appName: 'shop-web',
      instanceId: 'ios-1',
      sdkVersion: 'unleash-client-swift:2.0.0',
      interval: 15000,
      started: new Date().toISOString(),
    });
    expect(reg.status).toBe(202);
    const now = new Date().toISOString();
    const metrics = await post('/api/frontend/client/metrics', {
      appName: 'shop-web',
      instanceId: 'browser',
      bucket: { start: now, stop: now, toggles: { beta: { yes: 2, no: 1, variants: {} } } },
    });
    expect(metrics.status).toBe(202);
    expect((await post('/api/frontend/client/metrics', { appName: 'x' })).status).toBe(400);
    await server.gantry.clientApi.metrics.flush();
    const usage = await server.api<{ yes: number; no: number }>('GET', '/api/apps/shop/toggles/beta/usage');
    expect(usage.body).toMatchObject({ yes: 2, no: 1 });
  });

  it('serves the real unleash-proxy-client: flags, variants, context updates and changes on refresh', async () => {
    const sdk = new UnleashClient({
      url: `${server.url}/api/frontend`,
      clientKey: frontend,
      appName: 'shop-web',
      refreshInterval: 1,
      metricsInterval: 1,
      metricsIntervalInitial: 0,
      context: { userId: 'vip' },
    });
    try {
      const ready = new Promise<void>((resolve) => sdk.once('ready', () => resolve()));
      await sdk.start();
      await ready;
      expect(sdk.getError()).toBeUndefined();
      expect(sdk.isEnabled('new-checkout')).toBe(true);
      expect(sdk.isEnabled('dark-launch')).toBe(false);
      expect(sdk.isEnabled('beta')).toBe(false);
      expect(sdk.getVariant('button-colour')).toMatchObject({
        name: 'green',
        enabled: true,
        feature_enabled: true,
        payload: { type: 'string', value: '#0f0' },
      });

      await sdk.updateContext({ userId: 'alice', properties: { plan: 'pro' } });
      expect(sdk.isEnabled('beta')).toBe(true);
      expect(sdk.isEnabled('pro-only')).toBe(true);
      await sdk.setContextField('plan', 'basic');
      expect(sdk.isEnabled('pro-only')).toBe(false);

      expect(sdk.isEnabled('later')).toBe(false);
      await admin(server, 'PUT', '/api/apps/shop/toggles/later/environments/production', { enabled: true });
      await waitFor(
        async () => sdk.isEnabled('later') || undefined,
        'the change to reach the SDK on its refresh',
      );

      // Its metrics (every second here) reach the usage counts.
      await waitFor(async () => {
        await server.gantry.clientApi.metrics.flush();
        const usage = await server.api<{ yes: number }>('GET', '/api/apps/shop/toggles/pro-only/usage');
        return usage.body.yes >= 1 || undefined;
      }, 'the SDK metrics to be counted');
    } finally {
      sdk.stop();
    }
  });
});

describe('the Frontend API with configured origins', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(
      { name: 'sqlite' },
      { frontendCorsOrigins: ['https://shop.example', 'https://admin.example'] },
    );
    await frontendFixture(server);
  });
  afterAll(async () => server.close());

  it('allows only those origins, naming the one that asked', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/api/frontend`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET' },
      });
    const ok = await preflight('https://admin.example');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://admin.example');
    expect(ok.headers.get('vary')).toMatch(/origin/i);
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const token = await sdkToken(server, 'frontend');
    const res = await fetch(`${server.url}/api/frontend`, {
      headers: { authorization: token, origin: 'https://shop.example' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example');
  });
});
