import { createApp, yamlWithSteps } from '../../support/app-fixture.js';
import type { TestServer } from '../../support/test-server.js';
import { admin, createToggle } from '../ofrep/ofrep-fixture.js';

export async function sdkToken(
  server: TestServer,
  kind: 'client' | 'frontend',
  env = 'production',
): Promise<string> {
  const res = await server.api<{ token: string; kind: string }>('POST', '/api/apps/shop/client-tokens', {
    env,
    kind,
  });
  if (res.status !== 201 || res.body.kind !== kind)
    throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

/** The app `shop` with toggles in production that the frontend tests read. */
export async function frontendFixture(server: TestServer): Promise<void> {
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
      { name: 'default', constraints: [{ contextName: 'plan', operator: 'IN', values: ['pro'] }] },
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
  await admin(server, 'PUT', '/api/apps/shop/toggles/new-checkout/environments/staging', { enabled: false });
}
