import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindLegacyHookTokens } from '../../src/db/migrations/009-app-removal-and-hook-apps.js';
import { hashToken } from '../../src/features/auth/token-service.js';
import { type AppFixture, buildsOf, createApp, yamlWithSteps } from '../support/app-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

describe.each(engines)('tokens and hook tokens on $name', (engine) => {
  let server: TestServer;
  let shop: AppFixture;
  beforeAll(async () => {
    server = await startTestServer(engine);
    shop = await createApp(server, yamlWithSteps(['true']));
    await createApp(server, yamlWithSteps(['true']), { name: 'other' });
  });
  afterAll(async () => server.close());

  const tokenCount = async () =>
    (await server.gantry.database.db.selectFrom('tokens').select('id').execute()).length;
  const call = (token: string, method: string, path: string, body?: unknown) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('refuses unknown fields, kinds and roles instead of creating an admin token', async () => {
    const before = await tokenCount();
    const cases: [unknown, string][] = [
      [{ name: 'x', kind: 'client' }, 'kind'],
      [{ name: 'x', role: 'owner' }, 'role'],
      [{ name: 'x', roles: 'hook' }, 'roles'],
      [{ name: 'x', role: 'hook' }, 'app'],
      [{ name: 'x', role: 'deployer', env: 'production' }, 'env'],
      [{ name: 'x', role: 'hook', app: 'shop', env: 'production' }, 'env'],
      [{ name: 'x', role: 'client', app: 'shop' }, 'role'],
    ];
    for (const [body, field] of cases) {
      const res = await server.api<{ error: string; message: string }>('POST', '/api/tokens', body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.message).toContain(field);
    }
    expect(await tokenCount()).toBe(before);
    const unknownApp = await server.api('POST', '/api/tokens', { name: 'x', role: 'hook', app: 'ghost' });
    expect(unknownApp.status).toBe(404);
    expect(await tokenCount()).toBe(before);
  });

  it("a hook token reports its own app's pushes only, as itself, and gets 403 elsewhere", async () => {
    const { body } = await server.api<{ token: string }>('POST', '/api/apps/shop/hook-token');
    const hook = body.token;

    const other = await call(hook, 'POST', '/api/hooks/git', { app: 'other' });
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ message: expect.stringContaining('own app') });

    for (const [method, path] of [
      ['GET', '/api/apps'],
      ['POST', '/api/tokens'],
      ['GET', '/api/events'],
    ] as const) {
      const res = await call(hook, method, path, method === 'POST' ? { name: 'x' } : undefined);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(await res.json()).toMatchObject({ message: expect.stringContaining('hook token') });
    }

    const sha = await shop.pushFiles({ h: '1' });
    const own = await call(hook, 'POST', '/api/hooks/git', {
      app: 'shop',
      ref: 'refs/heads/main',
      pusher: 'someone-else',
    });
    expect(own.status).toBe(202);
    const build = await waitFor(
      async () => (await buildsOf(server)).find((b) => b.sha === sha),
      'hooked build',
    );
    expect(build.requestedBy).toBe('token:hook:shop');
  });

  it('a hook token from before app binding is refused with how to fix it', async () => {
    const legacy = 'gnt_legacy-hook-token-without-app';
    await server.gantry.database.db
      .insertInto('tokens')
      .values({
        id: 'tok_legacy',
        name: 'old hook',
        hash: hashToken(legacy),
        role: 'hook',
        created_at: new Date().toISOString(),
        last_used_at: null,
        app_id: null,
        env: null,
      })
      .execute();
    const res = await call(legacy, 'POST', '/api/hooks/git', { app: 'shop' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ message: expect.stringContaining('gantry hook install') });
  });

  it('migration 009 binds the hook tokens `gantry hook install` made before (hook:<app>) to their app', async () => {
    const db = server.gantry.database.db;
    const row = (id: string, name: string, token: string) => ({
      id,
      name,
      hash: hashToken(token),
      role: 'hook',
      created_at: new Date().toISOString(),
      last_used_at: null,
      app_id: null,
      env: null,
    });
    await db
      .insertInto('tokens')
      .values([row('tok_old_shop', 'hook:shop', 'gnt_old-shop'), row('tok_old_x', 'hook:gone', 'gnt_old-x')])
      .execute();
    await bindLegacyHookTokens(db as unknown as Kysely<unknown>);
    const bound = await db
      .selectFrom('tokens')
      .select(['id', 'app_id'])
      .where('id', 'in', ['tok_old_shop', 'tok_old_x'])
      .orderBy('id')
      .execute();
    expect(bound).toEqual([
      { id: 'tok_old_shop', app_id: (await server.gantry.apps.get('shop')).id },
      { id: 'tok_old_x', app_id: null },
    ]);
    expect((await call('gnt_old-shop', 'POST', '/api/hooks/git', { app: 'shop' })).status).toBe(202);
    expect((await call('gnt_old-x', 'POST', '/api/hooks/git', { app: 'shop' })).status).toBe(403);
  });

  it('an admin token may still name the pusher', async () => {
    const sha = await shop.pushFiles({ a: '2' });
    const res = await server.api('POST', '/api/hooks/git', { app: 'shop', pusher: 'dev' });
    expect(res.status).toBe(202);
    const build = await waitFor(async () => (await buildsOf(server)).find((b) => b.sha === sha), 'build');
    expect(build.requestedBy).toBe('git:dev');
  });
});
