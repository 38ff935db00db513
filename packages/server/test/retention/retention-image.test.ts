import type { Artifact, RetentionReport } from '@gantry/contracts';
import { afterAll, expect, it } from 'vitest';
import { RegistryClient } from '../../src/containers/registry.js';
import { referenceParts } from '../../src/features/artifacts/image-registries.js';
import { createApp, finishedBuild } from '../support/app-fixture.js';
import { baseImages, describeContainers, registry } from '../support/container-fixtures.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

afterAll(cleanupAll);

/** A repository of this run's own in the shared local registry. */
const prefix = `gantry-test-retention-${process.pid}-${Date.now().toString(36)}`;

describeContainers('artifact retention of images (SQLite)', () => {
  let server: TestServer;
  afterAll(async () => server?.close());

  it('deletes a collected image from the registry by digest, keeps the newest, and refuses to deploy the collected one', async () => {
    server = await startTestServer(
      { name: 'sqlite' },
      {
        registry: { url: `${registry}/${prefix}`, host: registry, prefix, insecure: true },
        artifactsGc: false,
      },
    );
    const yaml =
      'build:\n  steps: [{ name: s, run: "true" }]\n  image: {}\nenvironments:\n  qa: { driver: container }\n';
    const app = await createApp(server, yaml, { register: false });
    const dockerfile = (v: string) =>
      `FROM ${baseImages.busybox}\nRUN echo ${v} > /VERSION\nCMD ["cat", "/VERSION"]\n`;
    const old = await app.pushFiles({ Dockerfile: dockerfile('old') }, 'old');
    const add = await server.api<{ buildIds: string[] }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
    });
    expect((await finishedBuild(server, add.body.buildIds[0]!, 180_000)).status).toBe('succeeded');
    const newer = await app.pushFiles({ Dockerfile: dockerfile('new') }, 'new');
    const sync = await server.api<{ buildIds: string[] }>('POST', '/api/apps/shop/sync');
    expect((await finishedBuild(server, sync.body.buildIds[0]!, 180_000)).status).toBe('succeeded');
    const { body: images } = await server.api<Artifact[]>('GET', '/api/artifacts?app=shop');
    const [kept, gone] = [newer, old].map((s) => images.find((a) => a.sha === s)!);
    expect([kept?.kind, gone?.kind]).toEqual(['image', 'image']);

    const client = new RegistryClient({ host: registry, insecure: true });
    const repository = referenceParts(gone!.reference!).repository;
    expect(await client.manifestDigest(repository, gone!.digest)).toBe(gone!.digest);

    const run = await server.api<RetentionReport>('POST', '/api/retention/run', {
      keepPerApp: 1,
      maxAge: '0s',
    });
    expect(run.status).toBe(200);
    expect(run.body.collected.map((c) => [c.artifact.id, c.storage])).toEqual([[gone!.id, 'deleted']]);
    expect(run.body.kept.map((k) => k.artifact.id)).toEqual([kept!.id]);
    // Gone from the registry, by digest and by its SHA tag; the newest is still there.
    expect(await client.manifestDigest(repository, gone!.digest)).toBeNull();
    expect(await client.manifestDigest(repository, old)).toBeNull();
    expect(await client.manifestDigest(repository, kept!.digest)).toBe(kept!.digest);

    const refused = await server.api<{ message: string }>('POST', '/api/apps/shop/deployments', {
      env: 'qa',
      ref: old,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain(`gantry build ${old.slice(0, 12)}`);
  });
});
