import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliSandbox, makeCliSandbox } from '../../../../cli/test/support/run-cli.js';
import { createApp, yamlWithSteps } from '../../support/app-fixture.js';
import { cleanupAll } from '../../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { sdkFetch } from './client-api-fixture.js';

describe('gantry tokens create', () => {
  let server: TestServer;
  let cli: CliSandbox;
  beforeAll(async () => {
    server = await startTestServer();
    await createApp(server, yamlWithSteps(['true']));
    cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
  });
  afterAll(async () => {
    await server?.close();
    await cli?.cleanup();
    await cleanupAll();
  });

  it('prints a client token once that reads the features of that environment', async () => {
    const plain = await cli.run(['tokens', 'create', '--env', 'production']);
    expect(plain.code, plain.stderr).toBe(0);
    const token = plain.stdout.trim();
    expect(token).toMatch(/^shop:production\.[0-9a-f]{32}$/);
    expect(plain.stderr).toContain('shown only now');
    expect((await sdkFetch(server, '/api/client/features', token)).status).toBe(200);

    const json = await cli.json<{ token: string; app: string; env: string }>([
      'tokens',
      'create',
      '--app',
      'shop',
      '--env',
      'qa',
      '--json',
    ]);
    expect(json).toMatchObject({ app: 'shop', env: 'qa', token: expect.stringMatching(/^shop:qa\./) });

    const missingEnv = await cli.run(['tokens', 'create']);
    expect(missingEnv.code).not.toBe(0);
    expect(missingEnv.stderr).toContain('--env');
    const badApp = await cli.run(['tokens', 'create', '--app', 'nope', '--env', 'qa']);
    expect(badApp.code).not.toBe(0);
  });

  it('prints a frontend token with --kind frontend, which reads /api/frontend and not /api/client', async () => {
    const res = await cli.run(['tokens', 'create', '--env', 'production', '--kind', 'frontend']);
    expect(res.code, res.stderr).toBe(0);
    const token = res.stdout.trim();
    expect(token).toMatch(/^shop:production\.[0-9a-f]{32}$/);
    expect(res.stderr).toContain('frontend token');
    expect((await sdkFetch(server, '/api/frontend', token)).status).toBe(200);
    expect((await sdkFetch(server, '/api/client/features', token)).status).toBe(403);
    const bad = await cli.run(['tokens', 'create', '--env', 'production', '--kind', 'browser']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--kind browser');
  });
});
