import { createApp, yamlWithSteps } from '../../../../server/test/support/app-fixture.js';
import type { TestServer } from '../../../../server/test/support/test-server.js';

/** App `shop` whose gantry.yaml declares staging and production (nothing deploys: toggles only). */
export async function toggleApp(server: TestServer): Promise<{ head: string }> {
  await createApp(
    server,
    yamlWithSteps(['true'], 'environments:\n  staging: {}\n  production: { promote_from: staging }\n'),
  );
  const apps = await server.api<{ name: string; headSha: string | null }[]>('GET', '/api/apps');
  return { head: apps.body.find((a) => a.name === 'shop')?.headSha ?? '' };
}

/** Creates toggles in `shop` through the API (the same route as `gantry toggles create`). */
export async function createToggles(server: TestServer, ...names: string[]): Promise<void> {
  for (const name of names) {
    const res = await server.api('POST', '/api/apps/shop/toggles', { name });
    if (res.status !== 201) throw new Error(`toggle ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  }
}
