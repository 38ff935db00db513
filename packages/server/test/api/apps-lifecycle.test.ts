import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Deployment, GantryEvent } from '@gantry/contracts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { APP_TABLES } from '../../src/features/apps/app-removal.js';
import { createApp, yamlWithSteps } from '../support/app-fixture.js';
import { createDeployableApp, deployedTo, envPorts, serving } from '../support/deploy-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll, createBareRepo, createWorkClone } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

const blobs = async (server: TestServer) =>
  (await readdir(join(server.dataDir, 'artifacts', 'sha256')).catch(() => [] as string[])).sort();
const mirrors = async (server: TestServer) =>
  (await readdir(join(server.dataDir, 'repos')).catch(() => [] as string[])).sort();

describe.each(engines)('adding and removing apps on $name', (engine) => {
  let server: TestServer;
  afterEach(async () => server.close());

  it('adding a name that exists is 409 and leaves no orphan mirror, also when two adds race', async () => {
    server = await startTestServer(engine);
    const first = await createApp(server, yamlWithSteps(['true']));
    const before = await mirrors(server);
    expect(before).toHaveLength(1);
    const again = await server.api<{ message: string }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: first.bare.dir,
    });
    expect(again.status).toBe(409);
    expect(again.body.message).toContain('already exists');
    expect(await mirrors(server)).toEqual(before);

    const bare = await createBareRepo();
    const work = await createWorkClone(bare.url);
    await work.write('gantry.yaml', yamlWithSteps(['true']));
    await work.commit('first');
    await work.push();
    const racers = await Promise.all(
      [1, 2, 3].map(() => server.api('POST', '/api/apps', { name: 'twin', repoUrl: bare.dir })),
    );
    expect(racers.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(await mirrors(server)).toHaveLength(2);
  });

  it('refuses branch names git refuses (options, refspecs, ranges) with 400 and writes nothing', async () => {
    server = await startTestServer(engine);
    const app = await createApp(server, yamlWithSteps(['true']), { register: false });
    for (const branch of [
      '--upload-pack=touch /tmp/pwned',
      'main:evil',
      'a..b',
      '-x',
      'with space',
      '@{-1}',
    ]) {
      const res = await server.api<{ message: string }>('POST', '/api/apps', {
        name: 'shop',
        repoUrl: app.bare.dir,
        branch,
      });
      expect({ branch, status: res.status }).toEqual({ branch, status: 400 });
      expect(res.body.message).toContain('branch');
    }
    for (const repoUrl of ['ext::sh -c touch% /tmp/pwned', 'fd::3', `${app.bare.dir}\n`]) {
      const res = await server.api<{ message: string }>('POST', '/api/apps', { name: 'shop', repoUrl });
      expect({ repoUrl, status: res.status }).toEqual({ repoUrl, status: 400 });
      expect(res.body.message).toContain('repoUrl');
    }
    expect((await server.api<unknown[]>('GET', '/api/apps')).body).toEqual([]);
    expect(await mirrors(server)).toEqual([]);
    const typo = await server.api<{ message: string }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
      brnach: 'develop',
    });
    expect(typo.status).toBe(400);
    expect(typo.body.message).toContain('brnach');
    const ok = await server.api('POST', '/api/apps', { name: 'shop', repoUrl: app.bare.dir, branch: 'main' });
    expect(ok.status).toBe(201);
  });

  it('the schema of every app table is covered by --purge', async () => {
    server = await startTestServer(engine);
    const tables = await server.gantry.database.db.introspection.getTables();
    const mine = new Set(
      tables
        .filter((t) => engine.name === 'sqlite' || t.schema === tables.find((x) => x.name === 'apps')?.schema)
        .filter((t) => t.columns.some((c) => c.name === 'app_id'))
        .map((t) => t.name),
    );
    expect([...mine].sort()).toEqual([...APP_TABLES].sort());
  });

  it('removes an app: refuses while an environment runs, stops it only when told, keeps history unless purged', async () => {
    server = await startTestServer(engine);
    const ports = await envPorts();
    const app = await createDeployableApp(server, ports);
    const d = await deployedTo(server, 'qa', app.v1);
    expect(d.status).toBe('succeeded');
    expect(await serving(ports.qa)).toContain('v1');
    const { body: hook } = await server.api<{ token: string }>('POST', '/api/apps/shop/hook-token');

    const refused = await server.api<{ message: string }>('DELETE', '/api/apps/shop');
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain('--stop-environments');
    expect(refused.body.message).toContain('qa');
    expect(await serving(ports.qa)).toContain('v1');
    expect((await server.api('GET', '/api/apps/shop')).status).toBe(200);

    const removed = await server.api<{ stoppedEnvironments: string[]; purged: boolean }>(
      'DELETE',
      '/api/apps/shop?stopEnvironments=true',
    );
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ stoppedEnvironments: ['qa'], purged: false });
    await expect(serving(ports.qa)).rejects.toThrow();
    expect((await server.api('GET', '/api/apps/shop')).status).toBe(404);
    expect((await server.api<unknown[]>('GET', '/api/apps')).body).toEqual([]);
    expect(await mirrors(server)).toEqual([]);
    // The hook token went with the app.
    const hooked = await fetch(`${server.url}/api/hooks/git`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hook.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ app: 'shop' }),
    });
    expect(hooked.status).toBe(401);
    // History stays: the deployment and the events are still there.
    expect((await server.api<Deployment>('GET', `/api/deployments/${d.id}`)).status).toBe(200);
    const { body: events } = await server.api<GantryEvent[]>('GET', '/api/events?type=app.removed');
    expect(events).toEqual([
      expect.objectContaining({
        type: 'app.removed',
        data: expect.objectContaining({ name: 'shop', purged: false }),
      }),
    ]);

    // The name is free again; the new app starts with no environments of the old one.
    const readded = await server.api<{ id: string }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
    });
    expect(readded.status).toBe(201);
    await waitFor(
      async () => ((await deployedTo(server, 'qa', app.v1)).id !== d.id ? true : undefined),
      'the re-added app to deploy',
    );
    expect(await serving(ports.qa)).toContain('v1');

    // A release only the re-added app has: its blob goes with --purge; v1's blob is shared with the
    // first app's kept history (same digest) and stays.
    const v2 = await app.pushFiles({ VERSION: 'v2' }, 'v2');
    await server.api('POST', '/api/apps/shop/sync');
    expect((await deployedTo(server, 'qa', v2)).status).toBe('succeeded');
    const blobsBefore = await blobs(server);
    expect(blobsBefore).toHaveLength(2);

    const purged = await server.api<{ purged: boolean }>('DELETE', '/api/apps/shop', {
      stopEnvironments: true,
      purge: true,
    });
    expect(purged.status).toBe(200);
    const { body: left } = await server.api<Deployment[]>('GET', '/api/deployments?limit=100');
    // The purged app's deployments are gone; the first app's history stays.
    expect(left.map((x) => x.id)).toEqual([d.id]);
    const rows = await server.gantry.database.db
      .selectFrom('apps')
      .select('id')
      .where('id', '=', readded.body.id)
      .execute();
    expect(rows).toEqual([]);
    const blobsAfter = await blobs(server);
    expect(blobsAfter).toHaveLength(1);
    expect(blobsBefore).toContain(blobsAfter[0]);
  });

  it('answers an unknown app and unknown options with 4xx', async () => {
    server = await startTestServer(engine);
    expect((await server.api('DELETE', '/api/apps/ghost')).status).toBe(404);
    await createApp(server, yamlWithSteps(['true']));
    expect((await server.api('DELETE', '/api/apps/shop?force=true')).status).toBe(400);
    expect((await server.api('DELETE', '/api/apps/shop', { purgeAll: true })).status).toBe(400);
    expect((await server.api('GET', '/api/apps/shop')).status).toBe(200);
  });
});
