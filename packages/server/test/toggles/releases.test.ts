import type { Release, Toggle } from '@gantry/contracts';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, yamlWithSteps } from '../support/app-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

describe.each(engines)('releases on $name', (engine) => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer(engine);
    await createApp(server, yamlWithSteps(['true']));
    for (const name of ['search', 'banner', 'legacy'])
      await server.api('POST', '/api/apps/shop/toggles', { name });
    await server.api('PUT', '/api/apps/shop/toggles/legacy/environments/qa', {
      enabled: true,
      strategies: [{ name: 'default' }],
    });
    await server.api('PUT', '/api/apps/shop/toggles/banner/environments/qa', {
      enabled: true,
      strategies: [{ name: 'userWithId', parameters: { userIds: 'ann' } }],
    });
  });
  afterEach(async () => server.close());

  const revision = async (env: string) =>
    server.gantry.toggles.readStore().revision((await server.gantry.apps.get('shop')).id, env);
  const state = async (name: string) =>
    (await server.api<Toggle>('GET', `/api/apps/shop/toggles/${name}`)).body.environments.find(
      (e) => e.env === 'qa',
    );

  it('applies every change in one revision and reverts to exactly the previous state', async () => {
    expect(
      (await server.api('POST', '/api/releases', { name: 'spring', notes: 'New search for everyone' }))
        .status,
    ).toBe(201);
    const add = (toggle: string, change: object) =>
      server.api<Release>('POST', '/api/releases/spring/changes', { app: 'shop', toggle, env: 'qa', change });
    await add('search', { enabled: true });
    await add('banner', { rollout: 50 });
    const last = await add('legacy', { enabled: false });
    expect(last.body.changes.map((c) => c.toggle)).toEqual(['search', 'banner', 'legacy']);
    const bannerBefore = await state('banner');
    const legacyBefore = await state('legacy');
    const before = await revision('qa');

    const applied = await server.api<Release>('POST', '/api/releases/spring/apply');
    expect(applied.status).toBe(200);
    expect(applied.body.status).toBe('applied');
    expect(await revision('qa')).toBe(before + 1);
    expect((await state('search'))?.enabled).toBe(true);
    expect((await state('legacy'))?.enabled).toBe(false);
    expect((await state('banner'))?.strategies.map((s) => s.name)).toEqual(['userWithId', 'flexibleRollout']);

    const again = await server.api<{ message: string }>('POST', '/api/releases/spring/apply');
    expect(again.status).toBe(400);

    const reverted = await server.api<Release>('POST', '/api/releases/spring/revert');
    expect(reverted.body.status).toBe('reverted');
    expect(await revision('qa')).toBe(before + 2);
    expect((await state('search'))?.enabled).toBe(false);
    expect((await state('banner'))?.strategies).toEqual(bannerBefore?.strategies);
    expect(await state('legacy')).toMatchObject({
      enabled: legacyBefore?.enabled,
      strategies: legacyBefore?.strategies,
    });
  });

  it('refuses a toggle that does not exist, and applies nothing when one disappeared', async () => {
    await server.api('POST', '/api/releases', { name: 'r1' });
    const ghost = await server.api<{ message: string }>('POST', '/api/releases/r1/changes', {
      app: 'shop',
      toggle: 'ghost',
      env: 'qa',
      change: { enabled: true },
    });
    expect(ghost.status).toBe(404);
    expect(ghost.body.message).toContain('no toggle "ghost"');
    await server.api('POST', '/api/releases/r1/changes', {
      app: 'shop',
      toggle: 'search',
      env: 'qa',
      change: { enabled: true },
    });
    await server.api('POST', '/api/releases/r1/changes', {
      app: 'shop',
      toggle: 'banner',
      env: 'qa',
      change: { enabled: false },
    });
    await server.api('POST', '/api/apps/shop/toggles/banner/archive');
    const before = await revision('qa');
    const res = await server.api<{ message: string }>('POST', '/api/releases/r1/apply');
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('archived');
    expect(await revision('qa')).toBe(before);
    expect((await state('search'))?.enabled ?? false).toBe(false);
    expect((await server.api<Release>('GET', '/api/releases/r1')).body.status).toBe('draft');
  });

  it('applies a scheduled release when its time comes', async () => {
    await server.api('POST', '/api/releases', { name: 'later' });
    await server.api('POST', '/api/releases/later/changes', {
      app: 'shop',
      toggle: 'search',
      env: 'qa',
      change: { enabled: true },
    });
    const at = new Date(Date.now() + 1_500).toISOString();
    const scheduled = await server.api<Release>('POST', '/api/releases/later/schedule', { at });
    expect(scheduled.body).toMatchObject({ status: 'scheduled', scheduledAt: at });
    expect((await state('search'))?.enabled ?? false).toBe(false);
    const done = await waitFor(async () => {
      const { body } = await server.api<Release>('GET', '/api/releases/later');
      return body.status === 'applied' ? body : undefined;
    }, 'the scheduled release');
    expect(Date.parse(done.appliedAt!)).toBeGreaterThanOrEqual(Date.parse(at));
    expect((await state('search'))?.enabled).toBe(true);
  });
});
