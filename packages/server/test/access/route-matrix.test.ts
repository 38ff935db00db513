import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allows, type Permission, permissions, roles } from '../../src/features/access/roles.js';
import { type DeclaredRoute, registerAccess } from '../../src/http/access-hook.js';
import { createApp } from '../support/app-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

afterAll(cleanupAll);

/** Values for path parameters: an app and records that do not exist, so no route changes anything real. */
const PARAMS: Record<string, string> = {
  app: 'nowhere',
  env: 'production',
  id: 'x',
  name: 'x',
  idx: '0',
  provider: 'github',
  key: 'x',
};

function pathOf(url: string): string {
  return url.replace(/:(\w+)/g, (_, p: string) => PARAMS[p] ?? 'x').replace(/\/\*$/, '/x');
}

interface Caller {
  label: string;
  /** The role the token carries, for the permission routes; null for machine tokens and no token. */
  role: string | null;
  kind: 'role' | 'hook' | 'client' | 'frontend' | 'agent' | 'anonymous';
  token?: string;
}

async function send(server: TestServer, route: DeclaredRoute, caller: Caller): Promise<number> {
  const controller = new AbortController();
  const hasBody = ['POST', 'PUT', 'PATCH'].includes(route.method);
  const res = await fetch(`${server.url}${pathOf(route.url)}`, {
    method: route.method,
    headers: {
      ...(caller.token ? { authorization: `Bearer ${caller.token}` } : {}),
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
    },
    body: hasBody ? '{}' : undefined,
    signal: controller.signal,
  });
  // Streams answer with their headers and stay open: the status is all this needs.
  controller.abort();
  return res.status;
}

/**
 * What a caller must get from a route: refused (401 without credentials, 403 with the wrong ones),
 * let through, or — on a public route, which checks its own credentials (a forge's signature, a
 * session cookie) — the same answer whoever calls.
 */
function expected(route: DeclaredRoute, caller: Caller): 'through' | 'same' | 401 | 403 {
  const access = route.access;
  if (access === 'public') return 'same';
  if (caller.kind === 'anonymous') return 401;
  if (access === 'client' || access === 'frontend') return caller.kind === access ? 'through' : 403;
  if (caller.kind === 'client' || caller.kind === 'frontend') return 403;
  // Agent tokens call the agent API only, and only they call it (features/agents).
  if (access === 'agent' || caller.kind === 'agent')
    return access === 'agent' && caller.kind === 'agent' ? 'through' : 403;
  if (access === 'hook') {
    if (caller.kind === 'hook') return 'through';
    return allows([{ role: caller.role as never, app: null, env: null }], 'builds:write') ? 'through' : 403;
  }
  if (caller.kind === 'hook') return 403;
  if (access === 'signed-in') return 'through';
  const scope = route.everyApp ? { app: '*' } : {};
  return allows([{ role: caller.role as never, app: null, env: null }], access as Permission, scope)
    ? 'through'
    : 403;
}

describe.each(engines)('every route × every role on $name', (engine) => {
  let server: TestServer;
  const callers: Caller[] = [];
  beforeAll(async () => {
    server = await startTestServer(engine, { defaultPollIntervalMs: 0 });
    await createApp(server, 'build:\n  steps: []\n  artifact: { path: . }\n', { name: 'shop' });
    const tokenFor = async (body: Record<string, string>) => {
      const res = await server.api<{ token: string }>('POST', '/api/tokens', body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.token;
    };
    for (const role of roles)
      callers.push({ label: role, role, kind: 'role', token: await tokenFor({ name: `t-${role}`, role }) });
    callers.push({
      label: 'hook',
      role: null,
      kind: 'hook',
      token: await tokenFor({ name: 't-hook', role: 'hook', app: 'shop' }),
    });
    for (const kind of ['client', 'frontend'] as const) {
      const res = await server.api<{ token: string }>('POST', '/api/apps/shop/client-tokens', {
        env: 'production',
        kind,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      callers.push({ label: kind, role: null, kind, token: res.body.token });
    }
    const agent = await server.api<{ token: string }>('POST', '/api/agents/tokens', { labels: ['linux'] });
    expect(agent.status, JSON.stringify(agent.body)).toBe(201);
    callers.push({ label: 'agent', role: null, kind: 'agent', token: agent.body.token });
    callers.push({ label: 'no token', role: null, kind: 'anonymous' });
  }, 60_000);
  afterAll(async () => server?.close());

  it('declares who may call each route, and answers each caller as declared', async () => {
    const routes = server.http.declaredRoutes.filter((r) => r.method !== 'HEAD');
    // Everything the API offers is here (the app would not have started otherwise).
    expect(routes.length).toBeGreaterThan(100);
    for (const r of routes)
      expect([...permissions, 'signed-in', 'client', 'frontend', 'hook', 'agent', 'public']).toContain(
        r.access,
      );
    const wrong: string[] = [];
    const publicAnswers = new Map<string, Set<number>>();
    const pairs = routes.flatMap((route) => callers.map((caller) => ({ route, caller })));
    for (let i = 0; i < pairs.length; i += 16) {
      await Promise.all(
        pairs.slice(i, i + 16).map(async ({ route, caller }) => {
          const status = await send(server, route, caller);
          const want = expected(route, caller);
          if (want === 'same') {
            const key = `${route.method} ${route.url}`;
            publicAnswers.set(key, (publicAnswers.get(key) ?? new Set()).add(status));
            return;
          }
          const ok = want === 'through' ? status !== 401 && status !== 403 : status === want;
          if (!ok)
            wrong.push(
              `${route.method} ${route.url} (${route.access}) as ${caller.label}: ${status}, expected ${want}`,
            );
        }),
      );
    }
    expect(wrong).toEqual([]);
    for (const [route, answers] of publicAnswers)
      expect([route, [...answers]]).toEqual([route, [...answers].slice(0, 1)]);
  }, 120_000);

  it('binds a role to one app or one environment of it', async () => {
    const token = async (name: string, role: string, app: string, env?: string) => {
      const res = await server.api<{ token: string }>('POST', '/api/tokens', {
        name,
        role,
        app,
        ...(env ? { env } : {}),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.token;
    };
    const call = async (t: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${t}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return {
        status: res.status,
        body: (await res.json().catch(() => null)) as { message?: string } | null,
      };
    };
    const deployer = await token('staging-deployer', 'deployer', 'shop', 'staging');
    // Its environment: let through (the app has no such environment declared, so the answer is not 403).
    expect(
      (await call(deployer, 'POST', '/api/apps/shop/environments/staging/lock', { reason: 'x' })).status,
    ).not.toBe(403);
    const prod = await call(deployer, 'POST', '/api/apps/shop/environments/production/lock', { reason: 'x' });
    expect(prod.status).toBe(403);
    expect(prod.body?.message).toContain('may not environments:write on shop/production');
    expect(prod.body?.message).toContain('deployer on shop/staging');
    expect(
      (await call(deployer, 'POST', '/api/apps/shop/deployments', { env: 'production', ref: 'main' })).status,
    ).toBe(403);
    expect((await call(deployer, 'POST', '/api/apps/other/environments/staging/lock', {})).status).toBe(403);
    // Reading the app it is bound to, not another one.
    expect((await call(deployer, 'GET', '/api/apps/shop')).status).toBe(200);
    expect((await call(deployer, 'GET', '/api/apps/other')).status).toBe(403);
    // Lists across apps show it only the apps it is bound to.
    await createApp(server, 'build:\n  steps: []\n  artifact: { path: . }\n', { name: 'other' });
    const all = await server.api<{ name: string }[]>('GET', '/api/apps');
    expect(all.body.map((a) => a.name).sort()).toEqual(['other', 'shop']);
    const listed = await fetch(`${server.url}/api/apps`, {
      headers: { authorization: `Bearer ${deployer}` },
    });
    expect(((await listed.json()) as { name: string }[]).map((a) => a.name)).toEqual(['shop']);
    const builds = await fetch(`${server.url}/api/builds`, {
      headers: { authorization: `Bearer ${deployer}` },
    });
    const buildApps = new Set(((await builds.json()) as { app: string }[]).map((b) => b.app));
    expect([...buildApps]).toEqual(['shop']);
    // The event log too: its own app's events only, none of another app's or the server's (tokens, people).
    const shopId = (await server.api<{ id: string }>('GET', '/api/apps/shop')).body.id;
    const events = await fetch(`${server.url}/api/events?limit=1000`, {
      headers: { authorization: `Bearer ${deployer}` },
    });
    const seen = (await events.json()) as { appId: string | null }[];
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen.map((e) => e.appId))).toEqual(new Set([shopId]));

    const maintainer = await token('shop-maintainer', 'maintainer', 'shop');
    // Adding an app acts on the whole server: a binding to one app does not grant it.
    expect((await call(maintainer, 'POST', '/api/apps', { name: 'new', repoUrl: '/nowhere' })).status).toBe(
      403,
    );
    expect((await call(maintainer, 'GET', '/api/apps/shop/forge')).status).not.toBe(403);
    expect((await call(maintainer, 'PUT', '/api/apps/other/registry', {})).status).toBe(403);

    const admin = await token('shop-admin', 'admin', 'shop');
    // Server-wide permissions come only with a binding on every app.
    expect((await call(admin, 'POST', '/api/tokens', { name: 'x', role: 'viewer' })).status).toBe(403);
    expect((await call(admin, 'GET', '/api/audit')).status).toBe(403);

    const rm = await token('prod-rm', 'release-manager', 'shop', 'production');
    expect(
      (await call(rm, 'PUT', '/api/apps/shop/toggles/x/environments/production', { enabled: true })).status,
    ).not.toBe(403);
    expect(
      (await call(rm, 'PUT', '/api/apps/shop/toggles/x/environments/staging', { enabled: true })).status,
    ).toBe(403);
    expect((await call(rm, 'POST', '/api/apps/shop/environments/production/rollback', {})).status).toBe(403);
  });
});

describe('the HTTP app', () => {
  it('refuses to start with a route that declares no access', async () => {
    const app = Fastify();
    registerAccess(app, {
      tokens: { verify: async () => null },
      sessions: { find: async () => null },
      frontendCorsOrigins: [],
    });
    expect(() => app.get('/api/forgotten', async () => ({}))).toThrow(
      /GET \/api\/forgotten declares no access/,
    );
    expect(() =>
      app.get('/api/typo', { config: { access: 'apps:reed' as never } }, async () => ({})),
    ).toThrow(/unknown access "apps:reed"/);
    await app.close();
  });
});
