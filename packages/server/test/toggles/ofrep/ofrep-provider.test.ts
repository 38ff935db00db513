import { OFREPProvider } from '@openfeature/ofrep-provider';
import { type Client, ErrorCode, OpenFeature } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizedStrategyValue } from '../../../src/features/toggles/evaluator/index.js';
import { createApp, yamlWithSteps } from '../../support/app-fixture.js';
import { engines } from '../../support/engines.js';
import { cleanupAll } from '../../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { admin, clientToken, createToggle } from './ofrep-fixture.js';

afterAll(cleanupAll);

/** A user the 50% rollout of `half` lets in, and one it leaves out. */
function usersOfHalf(): { inside: string; outside: string } {
  const ids = Array.from({ length: 100 }, (_, i) => `user-${i}`);
  const inside = ids.find((u) => normalizedStrategyValue(u, 'half') <= 50)!;
  const outside = ids.find((u) => normalizedStrategyValue(u, 'half') > 50)!;
  return { inside, outside };
}

describe.each(engines)('the real OpenFeature OFREP provider against Gantry on $name', (engine) => {
  let server: TestServer;
  let client: Client;

  beforeAll(async () => {
    server = await startTestServer(engine);
    await createApp(server, yamlWithSteps(['true']));
    await createToggle(server, 'new-checkout', { enabled: true });
    await createToggle(server, 'dark-launch');
    await createToggle(server, 'later');
    await createToggle(server, 'beta', {
      enabled: true,
      strategies: [{ name: 'userWithId', parameters: { userIds: 'alice, bob' } }],
    });
    await createToggle(server, 'pro-only', {
      enabled: true,
      strategies: [
        {
          name: 'default',
          constraints: [
            { contextName: 'plan', operator: 'IN', values: ['pro'] },
            { contextName: 'seats', operator: 'NUM_GTE', value: '10' },
          ],
        },
      ],
    });
    for (const [name, percent] of [
      ['everyone', 100],
      ['nobody', 0],
      ['half', 50],
    ] as const) {
      await createToggle(server, name);
      await admin(server, 'POST', `/api/apps/shop/toggles/${name}/environments/production/rollout`, {
        percent,
      });
    }
    await createToggle(server, 'banner', {
      enabled: true,
      variants: [
        {
          name: 'spring',
          weight: 1000,
          payload: { type: 'json', value: '{"title":"Spring sale","discount":20}' },
        },
      ],
    });
    await createToggle(server, 'button-colour', {
      enabled: true,
      variants: [
        { name: 'blue', weight: 500, payload: { type: 'string', value: '#00f' } },
        {
          name: 'green',
          weight: 500,
          payload: { type: 'string', value: '#0f0' },
          overrides: [{ contextName: 'userId', values: ['vip'] }],
        },
      ],
    });
    await createToggle(server, 'dark-banner', {
      enabled: false,
      variants: [{ name: 'winter', weight: 1000, payload: { type: 'string', value: 'Winter' } }],
    });
    await createToggle(server, 'max-items', {
      enabled: true,
      variants: [{ name: 'ten', weight: 1000, payload: { type: 'number', value: '10' } }],
    });
    const token = await clientToken(server, 'shop', 'production');
    await OpenFeature.setProviderAndWait(
      'gantry',
      new OFREPProvider({ baseUrl: server.url, headers: [['Authorization', token]] }),
    );
    client = OpenFeature.getClient('gantry');
  });

  afterAll(async () => {
    await OpenFeature.clearProviders();
    await server.close();
  });

  it('evaluates boolean toggles with OFREP reasons and on/off variants', async () => {
    expect(await client.getBooleanValue('new-checkout', false)).toBe(true);
    expect(await client.getBooleanDetails('new-checkout', false)).toMatchObject({
      value: true,
      reason: 'STATIC',
      variant: 'on',
      flagMetadata: { type: 'release', revision: expect.any(Number) },
    });
    expect(await client.getBooleanDetails('dark-launch', true)).toMatchObject({
      value: false,
      reason: 'DISABLED',
      variant: 'off',
    });
    const unknown = await client.getBooleanDetails('no-such-toggle', true);
    expect(unknown).toMatchObject({ value: true, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND });
  });

  it('targets users by targetingKey and other context attributes', async () => {
    expect(await client.getBooleanDetails('beta', false, { targetingKey: 'alice' })).toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
      flagMetadata: { strategy: 'userWithId' },
    });
    expect(await client.getBooleanDetails('beta', true, { targetingKey: 'carol' })).toMatchObject({
      value: false,
      reason: 'DEFAULT',
    });
    expect(await client.getBooleanValue('pro-only', false, { plan: 'pro', seats: 12 })).toBe(true);
    expect(await client.getBooleanValue('pro-only', true, { plan: 'pro', seats: 3 })).toBe(false);
  });

  it('rolls out to 0%, 100% and, stickily, to half of the users', async () => {
    expect(await client.getBooleanValue('everyone', false)).toBe(true);
    expect(await client.getBooleanDetails('nobody', true)).toMatchObject({ value: false, reason: 'DEFAULT' });
    const { inside, outside } = usersOfHalf();
    for (let i = 0; i < 3; i++) {
      expect(await client.getBooleanDetails('half', false, { targetingKey: inside })).toMatchObject({
        value: true,
        reason: 'SPLIT',
      });
      expect(await client.getBooleanValue('half', true, { targetingKey: outside })).toBe(false);
    }
    expect(await client.getBooleanDetails('half', true)).toMatchObject({
      value: true,
      reason: 'ERROR',
      errorCode: ErrorCode.TARGETING_KEY_MISSING,
    });
  });

  it('answers a toggle with variants as a boolean, its variant in `variant` and its payload in metadata', async () => {
    expect(await client.getBooleanDetails('banner', false)).toMatchObject({
      value: true,
      variant: 'spring',
      reason: 'STATIC',
      flagMetadata: { payloadType: 'json', payload: '{"title":"Spring sale","discount":20}' },
    });
    expect(await client.getBooleanDetails('button-colour', false, { targetingKey: 'vip' })).toMatchObject({
      value: true,
      variant: 'green',
      flagMetadata: { payloadType: 'string', payload: '#0f0' },
    });
    // The variant split needs a targetingKey, the on/off state does not.
    expect(await client.getBooleanValue('button-colour', false)).toBe(true);
    expect(await client.getBooleanDetails('dark-banner', true)).toMatchObject({
      value: false,
      reason: 'DISABLED',
      variant: 'off',
    });
    expect(await client.getBooleanValue('max-items', false)).toBe(true);
    expect(await client.getStringDetails('banner', 'plain')).toMatchObject({
      value: 'plain',
      errorCode: ErrorCode.TYPE_MISMATCH,
    });
  });

  it('serves the variant name under `<toggle>:variant` and the typed payload under `<toggle>:payload`', async () => {
    expect(
      await client.getStringDetails('button-colour:variant', 'none', { targetingKey: 'vip' }),
    ).toMatchObject({
      value: 'green',
      variant: 'green',
      reason: 'TARGETING_MATCH',
    });
    expect(
      await client.getStringDetails('button-colour:payload', '#000', { targetingKey: 'vip' }),
    ).toMatchObject({
      value: '#0f0',
      variant: 'green',
    });
    expect(await client.getStringValue('button-colour:payload', '#000', { targetingKey: 'someone' })).toMatch(
      /^#(00f|0f0)$/,
    );
    expect(await client.getStringDetails('button-colour:variant', 'none')).toMatchObject({
      value: 'none',
      errorCode: ErrorCode.TARGETING_KEY_MISSING,
    });
    expect(await client.getObjectDetails('banner:payload', {})).toMatchObject({
      value: { title: 'Spring sale', discount: 20 },
      variant: 'spring',
      reason: 'STATIC',
    });
    expect(await client.getStringValue('banner:variant', 'none')).toBe('spring');
    expect(await client.getNumberValue('max-items:payload', 1)).toBe(10);
    // Off, or on without variants: no variant applies, OFREP leaves the value out and the default applies.
    expect(await client.getStringValue('dark-banner:variant', 'none')).toBe('none');
    expect(await client.getStringValue('dark-banner:payload', 'Default')).toBe('Default');
    expect(await client.getStringValue('new-checkout:variant', 'none')).toBe('none');
    expect(await client.getBooleanDetails('no-such-toggle:variant', true)).toMatchObject({
      errorCode: ErrorCode.FLAG_NOT_FOUND,
    });
  });

  it('sees a change made through the admin API on the next evaluation', async () => {
    expect(await client.getBooleanValue('later', false)).toBe(false);
    await admin(server, 'PUT', '/api/apps/shop/toggles/later/environments/production', { enabled: true });
    expect(await client.getBooleanDetails('later', false)).toMatchObject({ value: true, reason: 'STATIC' });
  });

  it('accepts the token as Bearer and as X-API-Key, and reports a wrong one', async () => {
    const token = await clientToken(server, 'shop', 'production');
    for (const headers of [[['Authorization', `Bearer ${token}`]], [['X-API-Key', token]]] as [
      string,
      string,
    ][][]) {
      await OpenFeature.setProviderAndWait('other', new OFREPProvider({ baseUrl: server.url, headers }));
      expect(await OpenFeature.getClient('other').getBooleanValue('new-checkout', false)).toBe(true);
    }
    await OpenFeature.setProviderAndWait(
      'other',
      new OFREPProvider({ baseUrl: server.url, headers: [['Authorization', 'shop:production.nope']] }),
    );
    expect(await OpenFeature.getClient('other').getBooleanDetails('new-checkout', false)).toMatchObject({
      value: false,
      reason: 'ERROR',
    });
  });
});
