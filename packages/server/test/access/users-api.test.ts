import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../support/app-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

afterAll(cleanupAll);

interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** A browser's view of the console: its cookie and CSRF token. */
interface Session {
  cookie: string;
  csrf: string;
}

describe.each(engines)('people, roles, sessions and tokens on $name', (engine) => {
  let server: TestServer;

  async function call<T = Record<string, unknown>>(
    method: string,
    path: string,
    opts: { body?: unknown; token?: string; session?: Session } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.session) {
      headers.cookie = opts.session.cookie;
      headers['x-csrf-token'] = opts.session.csrf;
    }
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T, headers: res.headers };
  }

  async function signIn(login: string, password: string): Promise<Session> {
    const res = await call<{ csrfToken: string }>('POST', '/api/session', { body: { login, password } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^gantry_session=/);
    expect(res.headers.get('set-cookie')).toContain('HttpOnly');
    return { cookie, csrf: res.body.csrfToken };
  }

  beforeAll(async () => {
    server = await startTestServer(engine);
    await createApp(server, 'build:\n  steps: []\n  artifact: { path: . }\n', { name: 'shop' });
    const alice = await server.api('POST', '/api/users', {
      login: 'alice',
      password: 'correct horse battery',
      groups: ['ops'],
    });
    expect(alice.status, JSON.stringify(alice.body)).toBe(201);
    const bound = await server.api('POST', '/api/role-bindings', {
      subject: 'group:ops',
      role: 'deployer',
      app: 'shop',
      env: 'staging',
    });
    expect(bound.status, JSON.stringify(bound.body)).toBe(201);
  }, 60_000);
  afterAll(async () => server?.close());

  it('signs a person in with a password; their group’s role decides what they may do, where', async () => {
    const s = await signIn('alice', 'correct horse battery');
    const me = await call<{
      principal: { kind: string; name: string; groups: string[] };
      permissions: string[];
    }>('GET', '/api/session', { session: s });
    expect(me.body.principal).toMatchObject({ kind: 'user', name: 'alice', groups: ['ops'] });
    expect(me.body.permissions).toContain('deployments:write');
    expect(me.body.permissions).not.toContain('toggles:write');
    // Their environment: let through (404: the app declares no such environment); another: refused.
    const staging = await call('POST', '/api/apps/shop/environments/staging/lock', {
      session: s,
      body: { reason: 'x' },
    });
    expect(staging.status).not.toBe(403);
    const prod = await call<{ message: string }>('POST', '/api/apps/shop/environments/production/lock', {
      session: s,
      body: { reason: 'x' },
    });
    expect(prod.status).toBe(403);
    expect(prod.body.message).toContain('user "alice" may not environments:write on shop/production');
    // People and tokens are an admin's.
    expect((await call('GET', '/api/users', { session: s })).status).toBe(403);
    // What it tried is on record as the person, with the groups' role it held.
    const audit = await server.api<{ entries: { actor: string; status: number; route: string }[] }>(
      'GET',
      '/api/audit?actor=alice&limit=10',
    );
    expect(audit.body.entries.find((e) => e.status === 403)).toMatchObject({
      actor: 'user:alice',
      route: '/api/apps/:app/environments/:env/lock',
    });
  });

  it('answers a wrong password and an unknown login alike, and rate-limits failures per account', async () => {
    await server.api('POST', '/api/users', { login: 'bob', password: 'bobs long password' });
    await server.api('POST', '/api/role-bindings', { subject: 'user:bob', role: 'viewer' });
    const wrong = await call<{ message: string }>('POST', '/api/session', {
      body: { login: 'bob', password: 'nope' },
    });
    const unknown = await call<{ message: string }>('POST', '/api/session', {
      body: { login: 'nobody', password: 'nope' },
    });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.body.message).toBe(unknown.body.message);
    for (let i = 0; i < 4; i++)
      await call('POST', '/api/session', { body: { login: 'bob', password: 'nope' } });
    const limited = await call<{ message: string }>('POST', '/api/session', {
      body: { login: 'bob', password: 'bobs long password' },
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.body.message).toContain('too many failed sign-ins');
    // Another account is not locked by bob's failures.
    await signIn('alice', 'correct horse battery');
  });

  it("gives a personal token its owner's rights as they are now, and revokes it at once", async () => {
    const s = await signIn('alice', 'correct horse battery');
    const made = await call<{ token: string; id: string; expiresAt: string }>('POST', '/api/me/tokens', {
      session: s,
      body: { name: 'laptop', expires: '90d' },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(Date.parse(made.body.expiresAt) - Date.now()).toBeGreaterThan(89 * 86_400_000);
    const who = await call<{ kind: string; name: string; permissions: string[] }>('GET', '/api/whoami', {
      token: made.body.token,
    });
    expect(who.body).toMatchObject({ kind: 'user', name: 'alice' });
    expect(who.body.permissions).toContain('deployments:write');
    // The group loses its role: the token loses it with the next request.
    const bindings = await server.api<{ id: string; subject: string }[]>('GET', '/api/role-bindings');
    const ops = bindings.body.find((b) => b.subject === 'group:ops');
    expect((await server.api('DELETE', `/api/role-bindings/${ops?.id}`)).status).toBe(204);
    const after = await call<{ permissions: string[] }>('GET', '/api/whoami', { token: made.body.token });
    expect(after.body.permissions).toEqual([]);
    await server.api('POST', '/api/role-bindings', {
      subject: 'group:ops',
      role: 'deployer',
      app: 'shop',
      env: 'staging',
    });
    // Listed with when it was last used; revoked by its owner; refused from then on.
    const mine = await call<{ id: string; lastUsedAt: string | null; user: string }[]>(
      'GET',
      '/api/me/tokens',
      {
        session: s,
      },
    );
    expect(mine.body.find((t) => t.id === made.body.id)).toMatchObject({ user: 'alice' });
    expect(mine.body.find((t) => t.id === made.body.id)?.lastUsedAt).not.toBeNull();
    expect((await call('DELETE', `/api/tokens/${made.body.id}`, { session: s })).status).toBe(204);
    expect((await call('GET', '/api/whoami', { token: made.body.token })).status).toBe(401);
  });

  it('closes the event stream of a revoked token, and refuses an expired one', async () => {
    const made = await server.api<{ token: string; id: string }>('POST', '/api/tokens', {
      name: 'watcher',
      role: 'viewer',
    });
    const stream = await fetch(`${server.url}/api/events/stream`, {
      headers: { authorization: `Bearer ${made.body.token}` },
    });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    await reader.read();
    expect((await server.api('DELETE', `/api/tokens/${made.body.id}`)).status).toBe(204);
    // The server ends the stream: reads drain what was sent, then report the end.
    for (;;) if ((await reader.read()).done) break;
    const listed = await server.api<{ id: string; revokedAt: string | null }[]>('GET', '/api/tokens');
    expect(listed.body.find((t) => t.id === made.body.id)?.revokedAt).not.toBeNull();

    const soon = new Date(Date.now() + 1500).toISOString();
    const short = await server.api<{ token: string; expiresAt: string }>('POST', '/api/tokens', {
      name: 'short',
      role: 'viewer',
      expires: soon,
    });
    expect(short.status, JSON.stringify(short.body)).toBe(201);
    expect((await call('GET', '/api/whoami', { token: short.body.token })).status).toBe(200);
    // A stream opened with it ends when it expires, without a request to notice.
    const expiring = await fetch(`${server.url}/api/events/stream`, {
      headers: { authorization: `Bearer ${short.body.token}` },
    });
    expect(expiring.status).toBe(200);
    const expiringReader = expiring.body!.getReader();
    for (;;) if ((await expiringReader.read()).done) break;
    await new Promise((r) => setTimeout(r, 100));
    const expired = await call<{ message: string }>('GET', '/api/whoami', { token: short.body.token });
    expect(expired.status).toBe(401);
    expect(expired.body.message).toContain('expired');
    const past = await server.api<{ message: string }>('POST', '/api/tokens', {
      name: 'x',
      role: 'viewer',
      expires: '2020-01-01',
    });
    expect(past.status).toBe(400);
    expect(past.body.message).toContain('has passed');
  });

  it('signs a person out everywhere, and ends the sessions of a disabled person', async () => {
    const one = await signIn('alice', 'correct horse battery');
    const two = await signIn('alice', 'correct horse battery');
    expect((await call('DELETE', '/api/session?everywhere=true', { session: one })).status).toBe(204);
    expect((await call('GET', '/api/session', { session: two })).status).toBe(401);
    const three = await signIn('alice', 'correct horse battery');
    expect((await server.api('PATCH', '/api/users/alice', { disabled: true })).status).toBe(200);
    expect((await call('GET', '/api/session', { session: three })).status).toBe(401);
    const refused = await call('POST', '/api/session', {
      body: { login: 'alice', password: 'correct horse battery' },
    });
    expect(refused.status).toBe(401);
    await server.api('PATCH', '/api/users/alice', { disabled: false });
  });

  it('refuses bad input with the reason and keeps nothing of it', async () => {
    const cases: [unknown, string][] = [
      [{ login: 'Has Spaces', password: 'long enough pw' }, 'login'],
      [{ login: 'carol', password: 'short' }, 'at least 10'],
      [{ login: 'alice', password: 'another long one' }, 'exists'],
    ];
    for (const [body, text] of cases) {
      const res = await server.api<{ message: string }>('POST', '/api/users', body);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body.message).toContain(text);
    }
    const users = await server.api<{ login: string }[]>('GET', '/api/users');
    expect(users.body.map((u) => u.login)).not.toContain('carol');
    const badRole = await server.api<{ message: string }>('POST', '/api/role-bindings', {
      subject: 'user:alice',
      role: 'owner',
    });
    expect(badRole.status).toBe(400);
    expect(badRole.body.message).toContain('role "owner"');
    const badSubject = await server.api<{ message: string }>('POST', '/api/role-bindings', {
      subject: 'alice',
      role: 'viewer',
    });
    expect(badSubject.body.message).toContain('user:<login>');
  });
});
