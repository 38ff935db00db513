import type { AuditEntry, AuditList } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../support/app-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

afterAll(cleanupAll);

describe.each(engines)('what a change changed, in the audit log, on $name', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(engine);
    await createApp(
      server,
      'build:\n  steps: []\n  artifact: { path: . }\nenvironments:\n  production: {}\n',
      {
        name: 'shop',
      },
    );
  }, 60_000);
  afterAll(async () => server?.close());

  async function last(route: string): Promise<AuditEntry> {
    const res = await server.api<AuditList>('GET', '/api/audit?limit=20');
    const entry = res.body.entries.find((e) => e.route === route);
    expect(entry, `an audit entry for ${route}`).toBeDefined();
    return entry as AuditEntry;
  }

  it('records a toggle turned on in production with its state before and after, and who did it', async () => {
    expect((await server.api('POST', '/api/apps/shop/toggles', { name: 'checkout' })).status).toBe(201);
    const on = await server.api('PUT', '/api/apps/shop/toggles/checkout/environments/production', {
      enabled: true,
    });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    const entry = await last('/api/apps/:app/toggles/:name/environments/:env');
    expect(entry).toMatchObject({ actor: 'token:admin', app: 'shop', env: 'production', status: 200 });
    expect(entry.before).toMatchObject({ enabled: false });
    expect(entry.after).toMatchObject({ enabled: true });
  });

  it('records the forge settings before and after, the token masked', async () => {
    const put = await server.api('PUT', '/api/apps/shop/forge', {
      provider: 'github',
      repo: 'acme/shop',
      token: 'ghp_secret_value_123',
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const entry = await last('/api/apps/:app/forge');
    expect(entry.before).toBeNull();
    expect(entry.after).toMatchObject({ provider: 'github', repo: 'acme/shop' });
    expect(JSON.stringify(entry)).not.toContain('ghp_secret_value_123');
  });
});
