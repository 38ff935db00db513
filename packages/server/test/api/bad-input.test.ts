import type { Deployment } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppFixture, createApp } from '../support/app-fixture.js';
import { deployYaml, envPorts } from '../support/deploy-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll, git } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

afterAll(cleanupAll);

/** Names that must never become rows, tags or folders. */
const WEIRD = ['../x', 'a\nb', 'qa\u202Eevil', '$(touch x)', 'with space', 'a..b', '-x', 'Q'];

describe.each(engines)('bad input gets 4xx with a reason, no row and no tag, on $name', (engine) => {
  let server: TestServer;
  let app: AppFixture;
  beforeAll(async () => {
    server = await startTestServer(engine);
    app = await createApp(server, deployYaml(await envPorts()));
  });
  afterAll(async () => server.close());

  const envRows = async () =>
    (await server.gantry.database.db.selectFrom('environments').select('name').execute()).map((r) => r.name);
  const deploymentRows = async () =>
    (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&limit=1000')).body.length;
  const remoteTags = async () => (await git(['tag', '-l'], app.bare.dir)).stdout.trim();
  const path = (env: string) => `/api/apps/shop/environments/${encodeURIComponent(env)}`;

  it('lock and hold routes take only environments gantry.yaml declares', async () => {
    for (const env of [...WEIRD, 'moon']) {
      const lock = await server.api<{ message: string }>('POST', `${path(env)}/lock`, { reason: 'x' });
      expect({ env, status: lock.status }).toEqual({ env, status: env === 'moon' ? 404 : 400 });
      expect(lock.body.message).toMatch(/not a valid environment name|not declared/);
      for (const route of ['lock', 'hold']) {
        const res = await server.api('DELETE', `${path(env)}/${route}`);
        expect({ env, route, status: res.status }).toEqual({
          env,
          route,
          status: env === 'moon' ? 404 : 400,
        });
      }
    }
    expect(await envRows()).toEqual([]);
    const moon = await server.api<{ message: string }>('POST', `${path('moon')}/lock`, {});
    expect(moon.body.message).toContain('declared: qa, staging, production');

    const ok = await server.api('POST', `${path('qa')}/lock`, { reason: 'maintenance' });
    expect(ok.status).toBe(200);
    expect((await server.api('DELETE', `${path('qa')}/lock`)).status).toBe(200);
    expect((await server.api('DELETE', `${path('qa')}/hold`)).status).toBe(200);
    expect(await envRows()).toEqual(['qa']);
  });

  it('deploy and rollback refuse environment names git or the folders cannot take, before any row or tag', async () => {
    const before = await deploymentRows();
    for (const env of WEIRD) {
      for (const tag of [true, false]) {
        const res = await server.api<{ message: string }>('POST', '/api/apps/shop/deployments', {
          env,
          ref: 'HEAD',
          tag,
        });
        expect({ env, tag, status: res.status }).toEqual({ env, tag, status: 400 });
        expect(res.body.message).toContain('not a valid environment name');
      }
      const rollback = await server.api('POST', `${path(env)}/rollback`, {});
      expect({ env, status: rollback.status }).toEqual({ env, status: 400 });
    }
    expect(await deploymentRows()).toBe(before);
    expect(await remoteTags()).toBe('');
  });

  it('a misspelt field of a deployment request is refused, not ignored (dryrun would deploy for real)', async () => {
    const before = await deploymentRows();
    for (const body of [
      { env: 'qa', ref: 'HEAD', dryrun: true },
      { env: 'qa', ref: 'HEAD', tags: false },
    ]) {
      const res = await server.api<{ message: string }>('POST', '/api/apps/shop/deployments', body);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/dryrun|tags/);
    }
    expect((await server.api('POST', `${path('qa')}/rollback`, { too: 'HEAD' })).status).toBe(400);
    expect((await server.api('POST', `${path('qa')}/lock`, { reson: 'typo' })).status).toBe(400);
    expect(await deploymentRows()).toBe(before);
  });

  it('refs that are not refs are 4xx, never 500', async () => {
    for (const ref of ['main:evil', '--upload-pack=x', '$(id)', 'a..b', 'HEAD@{-1}', ':/x', 'nope', '']) {
      const res = await server.api<{ message: string }>('POST', '/api/apps/shop/deployments', {
        env: 'qa',
        ref,
        dryRun: true,
      });
      expect({ ref, status: res.status < 500 && res.status >= 400 }).toEqual({ ref, status: true });
    }
  });
});
