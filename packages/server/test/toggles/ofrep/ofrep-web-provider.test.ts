import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';
import { type Client, OpenFeature } from '@openfeature/web-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, yamlWithSteps } from '../../support/app-fixture.js';
import { engines } from '../../support/engines.js';
import { cleanupAll } from '../../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { clientToken, createToggle } from './ofrep-fixture.js';

afterAll(cleanupAll);

// The web provider fetches the bulk endpoint and answers from what it got; with its browser cache and
// change detection off it needs nothing but `fetch`, so it runs in Node as it is.
describe.each(engines)('the real OpenFeature OFREP web provider against Gantry on $name', (engine) => {
  let server: TestServer;
  let client: Client;

  beforeAll(async () => {
    server = await startTestServer(engine);
    await createApp(server, yamlWithSteps(['true']));
    await createToggle(server, 'new-checkout', { enabled: true });
    await createToggle(server, 'dark-launch');
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
    await createToggle(server, 'max-items', {
      enabled: true,
      variants: [{ name: 'ten', weight: 1000, payload: { type: 'number', value: '10' } }],
    });
    const token = await clientToken(server, 'shop', 'production');
    await OpenFeature.setContext('web', { targetingKey: 'vip' });
    await OpenFeature.setProviderAndWait(
      'web',
      new OFREPWebProvider({
        baseUrl: server.url,
        headers: [['Authorization', token]],
        cacheMode: 'disabled',
        changeDetection: 'none',
      }),
    );
    client = OpenFeature.getClient('web');
  });

  afterAll(async () => {
    await OpenFeature.clearProviders();
    await server.close();
  });

  it('reads booleans, toggles with variants included', () => {
    expect(client.getBooleanDetails('new-checkout', false)).toMatchObject({
      value: true,
      reason: 'STATIC',
      variant: 'on',
    });
    expect(client.getBooleanDetails('dark-launch', true)).toMatchObject({ value: false, reason: 'DISABLED' });
    expect(client.getBooleanDetails('banner', false)).toMatchObject({
      value: true,
      variant: 'spring',
      flagMetadata: { payloadType: 'json' },
    });
    expect(client.getBooleanDetails('button-colour', false)).toMatchObject({ value: true, variant: 'green' });
    expect(client.getBooleanDetails('no-such-toggle', true)).toMatchObject({
      value: true,
      errorCode: 'FLAG_NOT_FOUND',
    });
  });

  it('reads variant names and typed payloads under their key forms', () => {
    expect(client.getStringValue('button-colour:variant', 'none')).toBe('green');
    expect(client.getStringDetails('button-colour:payload', '#000')).toMatchObject({
      value: '#0f0',
      variant: 'green',
      reason: 'TARGETING_MATCH',
    });
    expect(client.getObjectValue('banner:payload', {})).toEqual({ title: 'Spring sale', discount: 20 });
    expect(client.getNumberValue('max-items:payload', 1)).toBe(10);
    expect(client.getStringDetails('banner', 'plain')).toMatchObject({
      value: 'plain',
      errorCode: 'TYPE_MISMATCH',
    });
  });

  it('evaluates again for a new context', async () => {
    // 'vip' gets green by override; find a key the server puts in blue, so that only a new
    // evaluation for the new context can turn the provider's answer blue.
    const token = await clientToken(server, 'shop', 'production');
    let blueKey: string | undefined;
    for (let i = 0; i < 50 && !blueKey; i++) {
      const res = await fetch(`${server.url}/ofrep/v1/evaluate/flags/button-colour:variant`, {
        method: 'POST',
        headers: { authorization: token, 'content-type': 'application/json' },
        body: JSON.stringify({ context: { targetingKey: `user-${i}` } }),
      });
      if (((await res.json()) as { value?: string }).value === 'blue') blueKey = `user-${i}`;
    }
    expect(blueKey).toBeDefined();
    expect(client.getStringValue('button-colour:variant', 'none')).toBe('green');
    await OpenFeature.setContext('web', { targetingKey: blueKey! });
    expect(client.getStringValue('button-colour:variant', 'none')).toBe('blue');
    expect(client.getStringValue('button-colour:payload', '#000')).toBe('#00f');
  });
});
