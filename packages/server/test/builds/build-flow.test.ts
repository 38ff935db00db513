import { createHash } from 'node:crypto';
import type { Artifact, Build } from '@gantry/contracts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { engines } from '../support/engines.js';
import { cleanupAll, createBareRepo, createWorkClone } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

const GANTRY_YAML = `app: shop
build:
  steps:
    - { name: hello, run: "echo hello from $GANTRY_APP" }
    - { name: package, run: "mkdir -p dist && echo $GANTRY_SHA > dist/sha.txt && echo $GANTRY_BUILD_ID > dist/build.txt" }
  artifact: { path: dist }
`;

afterAll(cleanupAll);

describe.each(engines)('build flow on $name', (engine) => {
  let server: TestServer;
  afterEach(async () => server?.close());

  async function finished(id: string): Promise<Build> {
    return waitFor(async () => {
      const { body } = await server.api<Build>('GET', `/api/builds/${id}`);
      return ['succeeded', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
    }, `build ${id}`);
  }

  it('builds the head of a new app once into an artifact whose bytes hash to its digest', async () => {
    server = await startTestServer(engine);
    const bare = await createBareRepo();
    const work = await createWorkClone(bare.url);
    await work.write('gantry.yaml', GANTRY_YAML);
    const sha = await work.commit('first');
    await work.push();

    const add = await server.api<{ buildIds: string[]; headSha: string }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: bare.dir,
    });
    expect(add.status).toBe(201);
    expect(add.body.headSha).toBe(sha);
    expect(add.body.buildIds).toHaveLength(1);

    const build = await finished(add.body.buildIds[0]!);
    expect(build.status).toBe('succeeded');
    expect(build.steps?.map((s) => [s.name, s.status, s.exitCode])).toEqual([
      ['hello', 'succeeded', 0],
      ['package', 'succeeded', 0],
    ]);

    const logs = await fetch(`${server.url}/api/builds/${build.id}/logs`, {
      headers: { authorization: `Bearer ${server.token}` },
    }).then((r) => r.text());
    // The first line says where the steps ran (sandbox.test.ts checks it in each mode).
    expect(logs).toMatch(
      /^==> hello\ngantry: (sandbox bwrap \(network on\)|WARNING no sandbox: .*)\nhello from shop\n/,
    );

    const { body: artifact } = await server.api<Artifact>('GET', `/api/artifacts/${build.artifactId}`);
    expect(artifact.sha).toBe(sha);
    const res = await fetch(`${server.url}/api/artifacts/${artifact.id}/download`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.length).toBe(artifact.size);
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(artifact.digest);

    const again = await server.api<{ kind: string }>('POST', '/api/builds', {
      app: 'shop',
      ref: sha.slice(0, 8),
    });
    expect(again.body.kind).toBe('artifact-exists');
    const builds = await server.api<Build[]>('GET', '/api/builds?app=shop');
    expect(builds.body).toHaveLength(1);
  });

  it('rebuild makes a new artifact and keeps the old one', async () => {
    server = await startTestServer(engine);
    const bare = await createBareRepo();
    const work = await createWorkClone(bare.url);
    await work.write('gantry.yaml', GANTRY_YAML);
    await work.commit('first');
    await work.push();
    const add = await server.api<{ buildIds: string[] }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: bare.dir,
    });
    const first = await finished(add.body.buildIds[0]!);

    const re = await server.api<{ kind: string; build: Build }>('POST', '/api/builds', {
      app: 'shop',
      ref: 'main',
      rebuild: true,
    });
    expect(re.body.kind).toBe('queued');
    const second = await finished(re.body.build.id);
    expect(second.status).toBe('succeeded');
    expect(second.artifactId).not.toBe(first.artifactId);

    const { body: artifacts } = await server.api<Artifact[]>('GET', '/api/artifacts?app=shop');
    expect(artifacts.map((a) => [a.id, a.current])).toEqual([
      [second.artifactId, true],
      [first.artifactId, false],
    ]);
    // build.txt differs, so the rebuild's content and digest differ too
    expect(artifacts[0]!.digest).not.toBe(artifacts[1]!.digest);
  });
});
