import type { GantryEvent, Toggle } from '@gantry/contracts';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, yamlWithSteps } from '../support/app-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

afterAll(cleanupAll);

describe.each(engines)('toggles admin API on $name', (engine) => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer(engine);
    await createApp(server, yamlWithSteps(['true']));
  });
  afterEach(async () => server.close());

  const revision = async (env: string) =>
    server.gantry.toggles.readStore().revision((await server.gantry.apps.get('shop')).id, env);

  it('creates a toggle, enables it per environment, rolls it out, and bumps the revision each time', async () => {
    const created = await server.api<Toggle>('POST', '/api/apps/shop/toggles', {
      name: 'new-checkout',
      owner: 'ann',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'new-checkout', type: 'release', environments: [] });
    expect(await revision('qa')).toBe(0);

    const on = await server.api<Toggle>('PUT', '/api/apps/shop/toggles/new-checkout/environments/qa', {
      enabled: true,
      strategies: [{ name: 'default' }],
    });
    expect(on.status).toBe(200);
    expect(on.body.environments).toEqual([expect.objectContaining({ env: 'qa', enabled: true })]);
    expect(await revision('qa')).toBe(1);

    const rolled = await server.api<Toggle>(
      'POST',
      '/api/apps/shop/toggles/new-checkout/environments/qa/rollout',
      {
        percent: 25,
      },
    );
    expect(rolled.body.environments[0]!.strategies).toEqual([
      {
        name: 'flexibleRollout',
        parameters: { rollout: '25', stickiness: 'default', groupId: 'new-checkout' },
        constraints: [],
      },
    ]);
    expect(await revision('qa')).toBe(2);
    expect(await revision('production')).toBe(0);

    const { body: events } = await server.api<GantryEvent[]>('GET', '/api/events?type=toggle.changed');
    expect(events.at(-1)?.data).toMatchObject({
      env: 'qa',
      before: { enabled: true },
      after: { enabled: true },
    });
  });

  it('refuses bad input with a clear error and changes nothing', async () => {
    await server.api('POST', '/api/apps/shop/toggles', { name: 'a' });
    const before = await revision('qa');
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/apps/shop/toggles/a/environments/qa/rollout', { percent: 101 }, 'from 0 to 100'],
      [
        'PUT',
        '/api/apps/shop/toggles/a/environments/qa',
        { strategies: [{ name: 'flexibleRollout', parameters: { rollout: 'lots' } }] },
        'rollout must be a whole number',
      ],
      [
        'PUT',
        '/api/apps/shop/toggles/a/environments/qa',
        {
          strategies: [
            { name: 'default', constraints: [{ contextName: 'x', operator: 'LIKE', values: ['1'] }] },
          ],
        },
        'unknown operator "LIKE"',
      ],
      [
        'PUT',
        '/api/apps/shop/toggles/a/environments/qa',
        {
          variants: [
            { name: 'x', weight: 600, weightType: 'fix' },
            { name: 'y', weight: 600, weightType: 'fix' },
          ],
        },
        'more than 1000',
      ],
      ['PATCH', '/api/apps/shop/toggles/a', { dependencies: [{ feature: 'a' }] }, 'cannot depend on itself'],
      ['PATCH', '/api/apps/shop/toggles/a', { dependencies: [{ feature: 'ghost' }] }, 'does not exist'],
    ];
    for (const [method, path, body, message] of cases) {
      const res = await server.api<{ message: string }>(method, path, body);
      expect([path, res.status]).toEqual([path, 400]);
      expect(res.body.message).toContain(message);
    }
    await server.api('POST', '/api/apps/shop/toggles', { name: 'b', dependencies: [{ feature: 'a' }] });
    const cycle = await server.api<{ message: string }>('PATCH', '/api/apps/shop/toggles/a', {
      dependencies: [{ feature: 'b' }],
    });
    expect(cycle.status).toBe(400);
    expect(cycle.body.message).toContain('dependency cycle: a → b → a');
    expect(await revision('qa')).toBe(before);
    const { body } = await server.api<Toggle>('GET', '/api/apps/shop/toggles/a');
    expect(body.environments).toEqual([]);
    expect(body.dependencies).toEqual([]);
  });

  it('imports Unleash client-API state into one environment in one revision', async () => {
    const res = await server.api<{ imported: number }>('POST', '/api/apps/shop/toggles/import?env=dev', {
      features: [
        {
          name: 'f1',
          enabled: true,
          strategies: [{ name: 'default', parameters: {}, constraints: [], segments: [7] }],
        },
        { name: 'f2', enabled: false, strategies: [], dependencies: [{ feature: 'f1' }] },
      ],
      segments: [{ id: 7, constraints: [{ contextName: 'userId', operator: 'IN', values: ['1'] }] }],
    });
    expect(res.body.imported).toBe(2);
    expect(await revision('dev')).toBe(1);
    const { body: f1 } = await server.api<Toggle>('GET', '/api/apps/shop/toggles/f1');
    const { body: segments } = await server.api<{ id: number; name: string }[]>(
      'GET',
      '/api/apps/shop/segments',
    );
    expect(f1.environments[0]!.strategies[0]!.segments).toEqual([segments[0]!.id]);
    const { body: f2 } = await server.api<Toggle>('GET', '/api/apps/shop/toggles/f2');
    expect(f2.dependencies).toEqual([{ feature: 'f1' }]);
  });
});
