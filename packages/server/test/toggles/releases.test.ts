import type { Release, Toggle, ToggleEnvironment } from '@gantry/contracts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp, yamlWithSteps } from '../support/app-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

describe.each(engines)('releases on $name', (engine) => {
  // One server and repository for the tests of an engine (a server per test cost more than most tests
  // here), each test with an app of its own; the release names differ from test to test.
  let server: TestServer;
  let repoUrl = '';
  let app = '';
  let apps = 0;
  beforeAll(async () => {
    server = await startTestServer(engine);
    repoUrl = (await createApp(server, yamlWithSteps(['true']), { register: false })).bare.dir;
  });
  afterAll(async () => server?.close());
  beforeEach(async () => {
    app = `shop${++apps}`;
    expect((await server.api('POST', '/api/apps', { name: app, repoUrl })).status).toBe(201);
    for (const name of ['search', 'banner', 'legacy'])
      await server.api('POST', `/api/apps/${app}/toggles`, { name });
    await server.api('PUT', `/api/apps/${app}/toggles/legacy/environments/qa`, {
      enabled: true,
      strategies: [{ name: 'default' }],
    });
    await server.api('PUT', `/api/apps/${app}/toggles/banner/environments/qa`, {
      enabled: true,
      strategies: [{ name: 'userWithId', parameters: { userIds: 'ann' } }],
    });
  });
  // Tests of due releases stop the scheduler; the next test has it running again, as on a fresh server.
  afterEach(() => {
    server.gantry.releases.stopScheduler();
    server.gantry.releases.startScheduler();
  });

  const revision = async (env: string) =>
    server.gantry.toggles.readStore().revision((await server.gantry.apps.get(app)).id, env);
  const state = async (name: string) =>
    (await server.api<Toggle>('GET', `/api/apps/${app}/toggles/${name}`)).body.environments.find(
      (e) => e.env === 'qa',
    );

  it('applies every change in one revision and reverts to exactly the previous state', async () => {
    expect(
      (await server.api('POST', '/api/releases', { name: 'spring', notes: 'New search for everyone' }))
        .status,
    ).toBe(201);
    const add = (toggle: string, change: object) =>
      server.api<Release>('POST', '/api/releases/spring/changes', { app, toggle, env: 'qa', change });
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

    const again = await server.api<{ message: string; details: Release }>(
      'POST',
      '/api/releases/spring/apply',
    );
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(
      /^release "spring" is applied \(at .*\); only a draft or scheduled release can be applied, once$/,
    );
    expect(again.body.details.status).toBe('applied');

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
      app,
      toggle: 'ghost',
      env: 'qa',
      change: { enabled: true },
    });
    expect(ghost.status).toBe(404);
    expect(ghost.body.message).toContain('no toggle "ghost"');
    await server.api('POST', '/api/releases/r1/changes', {
      app,
      toggle: 'search',
      env: 'qa',
      change: { enabled: true },
    });
    await server.api('POST', '/api/releases/r1/changes', {
      app,
      toggle: 'banner',
      env: 'qa',
      change: { enabled: false },
    });
    await server.api('POST', `/api/apps/${app}/toggles/banner/archive`);
    const before = await revision('qa');
    const res = await server.api<{ message: string }>('POST', '/api/releases/r1/apply');
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('archived');
    expect(await revision('qa')).toBe(before);
    expect((await state('search'))?.enabled ?? false).toBe(false);
    expect((await server.api<Release>('GET', '/api/releases/r1')).body.status).toBe('draft');
  });

  const eventsOf = async (type: 'release.applied' | 'release.reverted', release: string) =>
    (await server.gantry.events.list({ types: [type], subject: release })).length;
  /** Every toggle's state in qa as SDKs see it (a toggle without a row for qa is off, no strategies). */
  const qaStates = async (): Promise<
    Record<string, Pick<ToggleEnvironment, 'enabled' | 'strategies' | 'variants'>>
  > =>
    Object.fromEntries(
      await Promise.all(
        ['search', 'banner', 'legacy'].map(async (name) => {
          const e = await state(name);
          return [
            name,
            { enabled: e?.enabled ?? false, strategies: e?.strategies ?? [], variants: e?.variants ?? [] },
          ];
        }),
      ),
    );
  /** A release of three changes; `search` has no row for qa yet, so applying it creates one. */
  const draft = async (name: string) => {
    await server.api('POST', '/api/releases', { name });
    for (const [toggle, change] of [
      ['search', { enabled: true }],
      ['banner', { rollout: 50 }],
      ['legacy', { enabled: false }],
    ] as const)
      await server.api('POST', `/api/releases/${name}/changes`, { app, toggle, env: 'qa', change });
  };
  const together = <T>(n: number, fn: () => Promise<T>) => Promise.all(Array.from({ length: n }, fn));
  const statuses = (rs: { status: number }[]) => rs.map((r) => r.status).sort();

  it('lets exactly one of eight concurrent applies win; the others get 409 with the current state', async () => {
    await draft('race');
    const before = await qaStates();
    const rev = await revision('qa');
    const results = await together(8, () =>
      server.api<Release & { details?: Release }>('POST', '/api/releases/race/apply'),
    );
    expect(statuses(results)).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    for (const lost of results.filter((r) => r.status === 409)) {
      expect(lost.body).toMatchObject({ error: 'Conflict', details: { name: 'race', status: 'applied' } });
    }
    expect(await eventsOf('release.applied', 'race')).toBe(1);
    expect(await revision('qa')).toBe(rev + 1);
    const applied = await qaStates();
    expect(applied.search?.enabled).toBe(true);
    expect(applied.legacy?.enabled).toBe(false);
    expect(applied.banner?.strategies.map((s) => s.name)).toEqual(['userWithId', 'flexibleRollout']);

    const reverted = await server.api<Release>('POST', '/api/releases/race/revert');
    expect(reverted.status).toBe(200);
    expect(await qaStates()).toEqual(before);
  });

  it('applies releases that touch the same toggles in opposite orders at once, without a deadlock', async () => {
    // Each pair: one release changes search then legacy, the other legacy then search.
    const pairs = ['a', 'b', 'c', 'd'];
    for (const p of pairs) {
      for (const [name, order] of [
        [`fwd-${p}`, ['search', 'legacy']],
        [`rev-${p}`, ['legacy', 'search']],
      ] as const) {
        await server.api('POST', '/api/releases', { name });
        for (const toggle of order)
          await server.api('POST', `/api/releases/${name}/changes`, {
            app,
            toggle,
            env: 'staging',
            change: { enabled: name.startsWith('fwd') },
          });
      }
    }
    const results = await Promise.all(
      pairs.flatMap((p) => [
        server.api<{ message?: string }>('POST', `/api/releases/fwd-${p}/apply`),
        server.api<{ message?: string }>('POST', `/api/releases/rev-${p}/apply`),
      ]),
    );
    expect(results.map((r) => `${r.status} ${r.body.message ?? ''}`.trim())).toEqual(Array(8).fill('200'));
    for (const p of pairs) {
      expect(await eventsOf('release.applied', `fwd-${p}`)).toBe(1);
      expect(await eventsOf('release.applied', `rev-${p}`)).toBe(1);
    }
    // Each release applied whole: search and legacy agree (both from the release applied last).
    const staging = async (name: string) =>
      (await server.api<Toggle>('GET', `/api/apps/${app}/toggles/${name}`)).body.environments.find(
        (e) => e.env === 'staging',
      )?.enabled;
    expect(await staging('search')).toBe(await staging('legacy'));
  });

  it('creates a toggle-environment row once when eight changes race to create it', async () => {
    const results = await together(8, () =>
      server.api('PUT', `/api/apps/${app}/toggles/search/environments/staging`, { enabled: true }),
    );
    expect(statuses(results)).toEqual(Array(8).fill(200));
    const staging = (
      await server.api<Toggle>('GET', `/api/apps/${app}/toggles/search`)
    ).body.environments.filter((e) => e.env === 'staging');
    expect(staging).toHaveLength(1);
    expect(staging[0]).toMatchObject({ enabled: true, enabledSince: expect.any(String) });
  });

  it('lets exactly one of eight concurrent reverts win and restores exactly the previous state', async () => {
    await draft('back');
    const before = await qaStates();
    expect((await server.api('POST', '/api/releases/back/apply')).status).toBe(200);
    const rev = await revision('qa');
    const results = await together(8, () =>
      server.api<{ details?: Release }>('POST', '/api/releases/back/revert'),
    );
    expect(statuses(results)).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    for (const lost of results.filter((r) => r.status === 409))
      expect(lost.body.details).toMatchObject({ name: 'back', status: 'reverted' });
    expect(await eventsOf('release.reverted', 'back')).toBe(1);
    expect(await revision('qa')).toBe(rev + 1);
    expect(await qaStates()).toEqual(before);
  });

  it('lets the scheduler and people racing to apply a due release apply it once', async () => {
    server.gantry.releases.stopScheduler();
    await draft('due');
    const before = await qaStates();
    const at = new Date(Date.now() - 1_000).toISOString();
    expect((await server.api('POST', '/api/releases/due/schedule', { at })).status).toBe(200);
    const [people, schedulers] = await Promise.all([
      together(4, () => server.api<{ details?: Release }>('POST', '/api/releases/due/apply')),
      together(4, () => server.gantry.releases.applyDue()),
    ]);
    const wins = people.filter((r) => r.status === 200).length + schedulers.flat().length;
    expect(wins).toBe(1);
    for (const r of people) expect([200, 409]).toContain(r.status);
    expect(await eventsOf('release.applied', 'due')).toBe(1);
    const after = (await server.api<Release>('GET', '/api/releases/due')).body;
    expect(after).toMatchObject({ status: 'applied', error: null });
    expect((await qaStates()).search?.enabled).toBe(true);
    expect((await server.api('POST', '/api/releases/due/revert')).status).toBe(200);
    expect(await qaStates()).toEqual(before);
  });

  it('unschedules, removes a change and cancels, each as an event; refused moves answer 409 with the release', async () => {
    await draft('plan');
    const later = new Date(Date.now() + 3_600_000).toISOString();
    expect((await server.api('POST', '/api/releases/plan/schedule', { at: later })).status).toBe(200);
    const unscheduled = await server.api<Release>('POST', '/api/releases/plan/unschedule');
    expect(unscheduled.status).toBe(200);
    expect(unscheduled.body).toMatchObject({ status: 'draft', scheduledAt: null });
    const again = await server.api<{ message: string; details: Release }>(
      'POST',
      '/api/releases/plan/unschedule',
    );
    expect(again.status).toBe(409);
    expect(again.body.message).toBe('release "plan" is a draft; only a scheduled release can be unscheduled');
    expect(again.body.details).toMatchObject({ name: 'plan', status: 'draft' });
    // An unscheduled release is not applied when its old time comes.
    expect(await server.gantry.releases.applyDue(new Date(Date.parse(later) + 1).toISOString())).toEqual([]);

    const banner = unscheduled.body.changes.find((c) => c.toggle === 'banner')!;
    const removed = await server.api<Release>('DELETE', `/api/releases/plan/changes/${banner.idx}`);
    expect(removed.status).toBe(200);
    expect(removed.body.changes.map((c) => c.toggle)).toEqual(['search', 'legacy']);
    const gone = await server.api<{ message: string }>('DELETE', `/api/releases/plan/changes/${banner.idx}`);
    expect(gone.status).toBe(404);
    expect(gone.body.message).toContain(`release "plan" has no change ${banner.idx}`);

    const cancelled = await server.api<Release>('POST', '/api/releases/plan/cancel');
    expect(cancelled.body.status).toBe('cancelled');
    for (const [method, path, body] of [
      ['POST', '/api/releases/plan/apply', undefined],
      ['POST', '/api/releases/plan/cancel', undefined],
      ['POST', '/api/releases/plan/schedule', { at: later }],
      ['POST', '/api/releases/plan/changes', { app, toggle: 'search', env: 'qa', change: { enabled: true } }],
      ['DELETE', '/api/releases/plan/changes/0', undefined],
    ] as const) {
      const res = await server.api<{ details: Release }>(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(409);
      expect(res.body.details.status).toBe('cancelled');
    }
    const events = await server.gantry.events.list({ subject: 'plan' });
    expect(events.map((e) => e.type)).toEqual([
      'release.created',
      'release.changed',
      'release.changed',
      'release.changed',
      'release.scheduled',
      'release.unscheduled',
      'release.change_removed',
      'release.cancelled',
    ]);
    expect(events.find((e) => e.type === 'release.unscheduled')?.data).toMatchObject({ at: later });
    expect(events.find((e) => e.type === 'release.change_removed')?.data).toMatchObject({
      idx: banner.idx,
      toggle: 'banner',
      env: 'qa',
      change: { rollout: 50 },
    });
    expect(events.find((e) => e.type === 'release.cancelled')?.data).toMatchObject({ from: 'draft' });
    expect((await state('search'))?.enabled ?? false).toBe(false);

    // An applied release is reverted, not cancelled; a scheduled one keeps at least one change.
    await draft('live');
    await server.api('POST', '/api/releases/live/apply');
    const refused = await server.api<{ message: string; details: Release }>(
      'POST',
      '/api/releases/live/cancel',
    );
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(
      /is applied .*; only a draft, scheduled or failed release can be cancelled \(revert an applied one\)/,
    );
    await server.api('POST', '/api/releases', { name: 'one' });
    await server.api('POST', '/api/releases/one/changes', {
      app,
      toggle: 'search',
      env: 'qa',
      change: { enabled: true },
    });
    await server.api('POST', '/api/releases/one/schedule', { at: later });
    const last = await server.api<{ message: string }>('DELETE', '/api/releases/one/changes/0');
    expect(last.status).toBe(409);
    expect(last.body.message).toContain('unschedule it first');
  });

  it('marks a due release that cannot be applied failed, as an event; a failed release can be cancelled', async () => {
    server.gantry.releases.stopScheduler();
    await draft('doomed');
    await server.api('POST', '/api/releases/doomed/schedule', {
      at: new Date(Date.now() - 1_000).toISOString(),
    });
    await server.api('POST', `/api/apps/${app}/toggles/banner/archive`);
    expect(await server.gantry.releases.applyDue()).toEqual([]);
    const failed = (await server.api<Release>('GET', '/api/releases/doomed')).body;
    expect(failed).toMatchObject({ status: 'failed', appliedAt: null });
    expect(failed.error).toContain('archived');
    expect(
      (await server.gantry.events.list({ subject: 'doomed', types: ['release.failed'] }))[0]?.data,
    ).toMatchObject({
      error: failed.error,
    });
    expect((await server.api('POST', '/api/releases/doomed/apply')).status).toBe(409);
    expect((await server.api<Release>('POST', '/api/releases/doomed/cancel')).body.status).toBe('cancelled');
  });

  it('applies a scheduled release when its time comes', async () => {
    await server.api('POST', '/api/releases', { name: 'later' });
    await server.api('POST', '/api/releases/later/changes', {
      app,
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
