import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

afterAll(cleanupAll);

interface SessionAnswer {
  principal: { name: string; role: string };
  permissions: string[];
  csrfToken: string;
  expiresAt: string;
}

async function signIn(server: TestServer, token: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ token }),
  });
  const cookie = res.headers.get('set-cookie') ?? '';
  const body = (await res.json()) as SessionAnswer & { message?: string };
  return { status: res.status, cookie, body, secret: /gantry_session=([^;]*)/.exec(cookie)?.[1] ?? '' };
}

const withCookie = (secret: string, extra: Record<string, string> = {}) => ({
  cookie: `gantry_session=${secret}`,
  ...extra,
});

describe.each(engines)('console sessions on $name', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(engine, { sessionIdleMs: 60 * 60_000, sessionAbsoluteMs: 8 * 3_600_000 });
  });
  afterAll(async () => server?.close());

  it('exchanges an admin token for an HttpOnly, SameSite=Strict cookie that acts as the token, GET only without CSRF', async () => {
    const s = await signIn(server, server.token);
    expect(s.status).toBe(201);
    expect(s.cookie).toMatch(/HttpOnly/);
    expect(s.cookie).toMatch(/SameSite=Strict/);
    expect(s.cookie).toMatch(/Path=\//);
    expect(s.cookie).not.toMatch(/Secure/); // plain HTTP here: a Secure cookie would never come back
    expect(s.body.principal).toMatchObject({ kind: 'token', name: 'admin', role: 'admin' });
    expect(s.body.permissions).toContain('deployments:write');
    // The cookie is not the token, and the token is not stored in it.
    expect(s.secret).not.toContain(server.token);

    const status = await fetch(`${server.url}/api/status`, { headers: withCookie(s.secret) });
    expect(status.status).toBe(200);
    const me = await fetch(`${server.url}/api/session`, { headers: withCookie(s.secret) });
    expect(((await me.json()) as SessionAnswer).csrfToken).toBe(s.body.csrfToken);

    const body = JSON.stringify({ name: 'from-console', role: 'metrics' });
    const json = { 'content-type': 'application/json' };
    const noCsrf = await fetch(`${server.url}/api/tokens`, {
      method: 'POST',
      headers: withCookie(s.secret, json),
      body,
    });
    expect(noCsrf.status).toBe(403);
    const wrongCsrf = await fetch(`${server.url}/api/tokens`, {
      method: 'POST',
      headers: withCookie(s.secret, { ...json, 'x-csrf-token': 'x'.repeat(s.body.csrfToken.length) }),
      body,
    });
    expect(wrongCsrf.status).toBe(403);
    const crossSite = await fetch(`${server.url}/api/tokens`, {
      method: 'POST',
      headers: withCookie(s.secret, {
        ...json,
        'x-csrf-token': s.body.csrfToken,
        origin: 'https://evil.example',
      }),
      body,
    });
    expect(crossSite.status).toBe(403);
    const good = await fetch(`${server.url}/api/tokens`, {
      method: 'POST',
      headers: withCookie(s.secret, { ...json, 'x-csrf-token': s.body.csrfToken, origin: server.url }),
      body,
    });
    expect(good.status).toBe(201);
    // The event names the token the session acts as.
    const events = await server.api<{ type: string; actor: string }[]>(
      'GET',
      '/api/events?type=token.created',
    );
    expect(events.body.at(-1)?.actor).toBe('token:admin');
  });

  it('refuses SDK, hook and unknown tokens with the reason, and a sign-in posted from another site', async () => {
    const client = await server.api<{ token: string }>('POST', '/api/tokens', {
      name: 'hooky',
      role: 'hook',
      app: 'nope',
    });
    expect(client.status).toBe(404); // no such app: nothing is created
    expect((await signIn(server, 'gnt_unknown')).status).toBe(401);
    const hook = await server.gantry.tokens.create('hook-for-test', 'hook', 'test');
    const refused = await signIn(server, hook.token);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain('use an API token or sign in as a person');
    expect(refused.cookie).toBe('');
    const csrfLogin = await signIn(server, server.token, { origin: 'https://evil.example' });
    expect(csrfLogin.status).toBe(403);
    expect(csrfLogin.cookie).toBe('');
  });

  it('gives a metrics token a session that may only read the metrics', async () => {
    const t = await server.api<{ token: string }>('POST', '/api/tokens', { name: 'dash', role: 'metrics' });
    const s = await signIn(server, t.body.token);
    expect(s.status).toBe(201);
    expect(s.body.permissions).toEqual(['metrics:read']);
    expect((await fetch(`${server.url}/metrics`, { headers: withCookie(s.secret) })).status).toBe(200);
    expect((await fetch(`${server.url}/api/status`, { headers: withCookie(s.secret) })).status).toBe(403);
  });

  it('ends on sign-out, and sessions of a revoked token die with it', async () => {
    const s = await signIn(server, server.token);
    const out = await fetch(`${server.url}/api/session`, {
      method: 'DELETE',
      headers: withCookie(s.secret, { 'x-csrf-token': s.body.csrfToken }),
    });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect((await fetch(`${server.url}/api/status`, { headers: withCookie(s.secret) })).status).toBe(401);

    const other = await server.gantry.tokens.create('temp-admin', 'admin', 'test');
    const s2 = await signIn(server, other.token);
    expect((await fetch(`${server.url}/api/status`, { headers: withCookie(s2.secret) })).status).toBe(200);
    await server.gantry.database.db.deleteFrom('tokens').where('id', '=', other.id).execute();
    expect((await fetch(`${server.url}/api/status`, { headers: withCookie(s2.secret) })).status).toBe(401);
  });

  it('never lets a session cookie stand in for an SDK token', async () => {
    const s = await signIn(server, server.token);
    const res = await fetch(`${server.url}/api/client/features`, { headers: withCookie(s.secret) });
    expect(res.status).toBe(401);
  });
});

describe('console session lifetimes', () => {
  it('ends a session after the idle time and after the absolute time, whichever comes first', async () => {
    const idle = await startTestServer(
      { name: 'sqlite' },
      { sessionIdleMs: 1_000, sessionAbsoluteMs: 3_600_000 },
    );
    const absolute = await startTestServer(
      { name: 'sqlite' },
      { sessionIdleMs: 3_600_000, sessionAbsoluteMs: 1_000 },
    );
    try {
      for (const server of [idle, absolute]) {
        const s = await signIn(server, server.token);
        expect((await fetch(`${server.url}/api/status`, { headers: withCookie(s.secret) })).status).toBe(200);
        await new Promise((r) => setTimeout(r, 1_200));
        expect((await fetch(`${server.url}/api/status`, { headers: withCookie(s.secret) })).status).toBe(401);
      }
      const rows = await idle.gantry.database.db.selectFrom('console_sessions').selectAll().execute();
      expect(rows).toEqual([]); // an ended session's row is gone, not only refused
    } finally {
      await idle.close();
      await absolute.close();
    }
  });
});
