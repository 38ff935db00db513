import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { type IdentityProvider, listenIdentityProvider, TestBrowser } from './identity-provider.js';

afterAll(cleanupAll);

interface SessionAnswer {
  principal: {
    kind: string;
    name: string;
    groups: string[];
    bindings: { role: string; app: string | null }[];
  };
  permissions: string[];
}
interface Refusal {
  error: string;
  message: string;
  details: { reason: string };
}

const CALLBACK = '/api/session/oidc/callback';
const json = { accept: 'application/json' };

/** A port nothing listens on: a provider that is down. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe.each(engines)('single sign-on with OpenID Connect on $name', (engine) => {
  let idp: IdentityProvider;
  let server: TestServer;

  beforeAll(async () => {
    idp = await listenIdentityProvider();
    server = await startTestServer(engine, {
      oidc: {
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        groupsClaim: 'groups',
        scopes: ['openid', 'profile', 'email', 'groups'],
      },
    });
    idp.start(`${server.url}${CALLBACK}`);
    const bound = await server.api('POST', '/api/role-bindings', { subject: 'group:ops', role: 'deployer' });
    expect(bound.status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
    await idp?.close();
  });

  const sessions = async () =>
    Number(
      (
        await server.gantry.database.db
          .selectFrom('console_sessions')
          .select((e) => e.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  /** Signs in at the provider and stops where it sends the browser back to Gantry. */
  async function toCallback(browser: TestBrowser): Promise<URL> {
    const { url } = await browser.follow(
      `${server.url}/api/session/oidc/login`,
      (next) => next.pathname === CALLBACK,
    );
    return new URL(url);
  }

  async function sessionOf(browser: TestBrowser): Promise<{ status: number; body: SessionAnswer }> {
    const res = await browser.get(`${server.url}/api/session`);
    return { status: res.status, body: (await res.json()) as SessionAnswer };
  }

  it('says single sign-on is on, for the sign-in page', async () => {
    const res = await fetch(`${server.url}/api/session/oidc`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      enabled: true,
      issuer: idp.issuer,
      loginUrl: '/api/session/oidc/login',
    });
  });

  it('sends the browser to the provider with state, nonce and PKCE, and remembers the state in an HttpOnly Lax cookie', async () => {
    const browser = new TestBrowser();
    const res = await browser.get(`${server.url}/api/session/oidc/login`);
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location')!);
    expect(to.origin).toBe(idp.issuer);
    const q = to.searchParams;
    expect(q.get('client_id')).toBe(idp.clientId);
    expect(q.get('redirect_uri')).toBe(`${server.url}${CALLBACK}`);
    expect(q.get('response_type')).toBe('code');
    expect(q.get('scope')).toBe('openid profile email groups');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(q.get('nonce')).toBeTruthy();
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('gantry_oidc_state='))!;
    expect(cookie).toContain(`gantry_oidc_state=${q.get('state')}`);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    // The verifier stays on the server.
    expect(res.headers.get('location')).not.toContain('code_verifier');
  });

  it('signs a person in through the provider: a console session with the roles their groups are bound to', async () => {
    idp.signInAs({
      sub: 'u-alice',
      preferred_username: 'alice',
      email: 'alice@example.com',
      name: 'Alice Example',
      groups: ['ops', 'readers'],
    });
    const browser = new TestBrowser();
    const callback = await toCallback(browser);
    expect(callback.searchParams.get('code')).toBeTruthy();
    const res = await browser.get(callback.href);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/');
    const cookies = res.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith('gantry_session='))!;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Strict/);
    expect(session).toMatch(/Path=\//);
    // The state cookie is cleared: it was good for this one callback.
    expect(cookies.some((c) => /^gantry_oidc_state=;.*Max-Age=0/.test(c))).toBe(true);

    const me = await sessionOf(browser);
    expect(me.status).toBe(200);
    expect(me.body.principal.kind).toBe('user');
    expect(me.body.principal.name).toBe('alice');
    expect(me.body.principal.groups).toEqual(['ops', 'readers']);
    expect(me.body.principal.bindings).toEqual([{ role: 'deployer', app: null, env: null }]);
    expect(me.body.permissions).toEqual(expect.arrayContaining(['apps:read', 'deployments:write']));
    expect(me.body.permissions).not.toContain('tokens:write');
    expect(me.body.permissions).not.toContain('users:write');

    // The session acts as alice on the API, with a deployer's rights and no more.
    expect((await browser.get(`${server.url}/api/apps`)).status).toBe(200);
    expect((await browser.get(`${server.url}/api/tokens`)).status).toBe(403);

    // The person exists now, from the provider, with its groups.
    const users = await server.api<
      { login: string; name: string; email: string; groups: string[]; source: string }[]
    >('GET', '/api/users');
    const alice = users.body.find((u) => u.login === 'alice');
    expect(alice).toMatchObject({
      name: 'Alice Example',
      email: 'alice@example.com',
      groups: ['ops', 'readers'],
      source: idp.issuer,
    });

    // The same callback again: its state was used, so no second session.
    const before = await sessions();
    const again = await browser.get(callback.href, json);
    expect(again.status).toBe(400);
    expect(((await again.json()) as Refusal).details.reason).toBe('state');
    expect(
      again.headers.getSetCookie().some((c) => c.startsWith('gantry_session=') && !c.includes('Max-Age=0')),
    ).toBe(false);
    expect(await sessions()).toBe(before);
  });

  it('refuses a callback whose state is not the one this browser started, and starts no session', async () => {
    idp.signInAs({ sub: 'u-alice', preferred_username: 'alice', groups: ['ops'] });
    const browser = new TestBrowser();
    const callback = await toCallback(browser);
    const before = await sessions();
    const forged = new URL(callback.href);
    forged.searchParams.set('state', 'not-the-state-gantry-sent');
    const res = await browser.get(forged.href, json);
    expect(res.status).toBe(400);
    const body = (await res.json()) as Refusal;
    expect(body.details.reason).toBe('state');
    expect(body.message).toMatch(
      /state does not match the one this browser started.*Start the sign-in again/,
    );
    expect(await sessions()).toBe(before);
    expect(browser.cookie(server.url, 'gantry_session')).toBeUndefined();

    // The real callback in another browser (no state cookie, as when a link is sent to someone): refused too.
    const other = new TestBrowser();
    const stolen = await other.get(callback.href, { accept: 'text/html' });
    expect(stolen.status).toBe(400);
    expect(stolen.headers.get('content-type')).toMatch(/text\/html/);
    const page = await stolen.text();
    expect(page).toContain('Sign-in not recognised');
    expect(page).toContain('href="/api/session/oidc/login"');
    expect(await sessions()).toBe(before);
    expect(other.cookie(server.url, 'gantry_session')).toBeUndefined();
  });

  it('refuses an expired code with what to do, and starts no session', async () => {
    idp.signInAs({ sub: 'u-alice', preferred_username: 'alice', groups: ['ops'] });
    idp.codeTtlS = 1;
    const browser = new TestBrowser();
    let callback: URL;
    try {
      callback = await toCallback(browser);
    } finally {
      idp.codeTtlS = 60;
    }
    // Past the code's one second of life (the provider counts in whole seconds).
    await new Promise((r) => setTimeout(r, 2_100));
    const before = await sessions();
    const res = await browser.get(callback.href, json);
    expect(res.status).toBe(400);
    const body = (await res.json()) as Refusal;
    expect(body.details.reason).toBe('expired');
    expect(body.message).toMatch(/refused the sign-in code .*invalid_grant.*expired or was used already/);
    expect(body.message).toMatch(/sign in again/);
    expect(await sessions()).toBe(before);
    expect(browser.cookie(server.url, 'gantry_session')).toBeUndefined();
  });

  it('refuses a code that is not the one the provider issued for this sign-in', async () => {
    idp.signInAs({ sub: 'u-alice', preferred_username: 'alice', groups: ['ops'] });
    const browser = new TestBrowser();
    const callback = await toCallback(browser);
    callback.searchParams.set('code', `${callback.searchParams.get('code')}x`);
    const before = await sessions();
    const res = await browser.get(callback.href, json);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Refusal).details.reason).toBe('expired');
    expect(await sessions()).toBe(before);
  });

  it('refuses a person none of whose groups has a role (403), and lets them in once an admin binds one', async () => {
    idp.signInAs({ sub: 'u-bob', preferred_username: 'bob', email: 'bob@example.com', groups: ['guests'] });
    const browser = new TestBrowser();
    const before = await sessions();
    const res = await browser.get((await toCallback(browser)).href, json);
    expect(res.status).toBe(403);
    const body = (await res.json()) as Refusal;
    expect(body.details.reason).toBe('no-role');
    expect(body.message).toBe(
      'signed in as bob, but none of your groups (guests) has a role in Gantry; ask an admin to bind one.',
    );
    expect(await sessions()).toBe(before);
    expect(browser.cookie(server.url, 'gantry_session')).toBeUndefined();

    // In no group at all; as a page for the browser.
    idp.signInAs({ sub: 'u-carol', email: 'carol@example.com', groups: [] });
    const carol = new TestBrowser();
    const page = await carol.get((await toCallback(carol)).href, { accept: 'text/html' });
    expect(page.status).toBe(403);
    expect(await page.text()).toContain(
      'signed in as carol@example.com, but none of your groups (none) has a role in Gantry; ask an admin to bind one.',
    );
    expect(await sessions()).toBe(before);

    // An admin binds a viewer role to bob's group: his next sign-in works.
    expect(
      (await server.api('POST', '/api/role-bindings', { subject: 'group:guests', role: 'viewer' })).status,
    ).toBe(201);
    idp.signInAs({ sub: 'u-bob', preferred_username: 'bob', groups: ['guests'] });
    const ok = await browser.get((await toCallback(browser)).href);
    expect(ok.status).toBe(302);
    const me = await sessionOf(browser);
    expect(me.body.principal.name).toBe('bob');
    expect(me.body.permissions).toContain('apps:read');
    expect(me.body.permissions).not.toContain('deployments:write');
  });

  it('keeps groups as the provider says them on each sign-in: a group taken away takes its role away', async () => {
    idp.signInAs({ sub: 'u-dave', preferred_username: 'dave', groups: ['ops'] });
    const browser = new TestBrowser();
    expect((await browser.get((await toCallback(browser)).href)).status).toBe(302);
    expect((await sessionOf(browser)).body.permissions).toContain('deployments:write');

    idp.signInAs({ sub: 'u-dave', preferred_username: 'dave', groups: [] });
    const later = new TestBrowser();
    const res = await later.get((await toCallback(later)).href, json);
    expect(res.status).toBe(403);
    expect(((await res.json()) as Refusal).message).toMatch(
      /signed in as dave, but none of your groups \(none\)/,
    );
  });
});

describe('single sign-on when the provider is down or not configured', () => {
  let down: TestServer;
  let off: TestServer;
  let issuer: string;
  beforeAll(async () => {
    issuer = `http://127.0.0.1:${await closedPort()}`;
    down = await startTestServer(engines[0], {
      oidc: { issuer, clientId: 'gantry', clientSecret: 's', groupsClaim: 'groups', scopes: ['openid'] },
    });
    off = await startTestServer(engines[0]);
  });
  afterAll(async () => {
    await down?.close();
    await off?.close();
  });

  it('answers 502 saying the provider did not answer, as JSON or a page', async () => {
    const res = await fetch(`${down.url}/api/session/oidc/login`, { redirect: 'manual', headers: json });
    expect(res.status).toBe(502);
    const body = (await res.json()) as Refusal;
    expect(body.details.reason).toBe('provider');
    expect(body.message).toContain(`the identity provider ${issuer} did not answer`);
    expect(body.message).toContain('ECONNREFUSED');
    const page = await fetch(`${down.url}/api/session/oidc/login`, {
      redirect: 'manual',
      headers: { accept: 'text/html,application/xhtml+xml' },
    });
    expect(page.status).toBe(502);
    expect(await page.text()).toContain('Identity provider unavailable');
  });

  it('says single sign-on is off, and its routes answer 404 saying how to turn it on', async () => {
    expect(await (await fetch(`${off.url}/api/session/oidc`)).json()).toEqual({ enabled: false });
    const login = await fetch(`${off.url}/api/session/oidc/login`, { redirect: 'manual', headers: json });
    expect(login.status).toBe(404);
    expect(((await login.json()) as Refusal).message).toContain('GANTRY_OIDC_ISSUER');
    const callback = await fetch(`${off.url}${CALLBACK}?code=x&state=y`, { headers: json });
    expect(callback.status).toBe(404);
  });
});
