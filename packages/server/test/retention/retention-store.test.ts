import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqlAppStore } from '../../src/features/apps/sql-app-store.js';
import { SqlArtifactStore } from '../../src/features/artifacts/sql-artifact-store.js';
import { SqlDeploymentStore } from '../../src/features/deployments/sql-deployment-store.js';
import { SqlRetentionStore } from '../../src/features/retention/retention-store.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { openTestDatabase } from '../support/test-database.js';

afterAll(cleanupAll);

describe.each(engines)('the retention store on $name', (engine) => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let appId: string;
  beforeEach(async () => {
    database = await openTestDatabase(engine);
    appId = (
      await new SqlAppStore(database.db).insert({
        id: 'app_1',
        name: 'shop',
        repoUrl: '/repo.git',
        branch: 'main',
        webhookSecret: 'secret',
        pollIntervalMs: 0,
      })
    ).id;
  });
  afterEach(async () => database.close());

  const deployment = (artifactId: string, env: string, status: 'queued' | 'succeeded') => ({
    appId,
    env,
    sha: 'a'.repeat(40),
    previousSha: null,
    artifactId,
    digest: null,
    trigger: 'api' as const,
    actor: 't',
    reason: null,
    tag: null,
    forced: false,
    status,
  });

  it('never collects an artifact a deployment in flight names; collects the rest once; restores one', async () => {
    const artifacts = new SqlArtifactStore(database.db);
    const deployments = new SqlDeploymentStore(database.db);
    const store = new SqlRetentionStore(database.db);
    const a = await artifacts.insertCurrent({
      appId,
      sha: 'a'.repeat(40),
      digest: 'sha256:a',
      size: 1,
      buildId: 'b1',
    });
    const b = await artifacts.insertCurrent({
      appId,
      sha: 'b'.repeat(40),
      digest: 'sha256:b',
      size: 1,
      buildId: 'b2',
    });
    const queued = await deployments.insert(deployment(a.id, 'staging', 'queued'));
    await deployments.insert(deployment(b.id, 'qa', 'succeeded'));

    expect((await store.liveArtifacts()).map((x) => x.id)).toEqual([a.id, b.id]);
    expect(await store.environments()).toEqual([{ appId, env: 'qa' }]);
    expect(await store.inFlight()).toEqual([
      { id: queued.id, appId, env: 'staging', sha: 'a'.repeat(40), artifactId: a.id, status: 'queued' },
    ]);

    // A queued deployment names a: the guarded update leaves it alone.
    expect(await store.collect(a.id)).toBe(false);
    expect((await artifacts.find(a.id))?.prunedAt).toBeNull();
    // b's deployment finished: b may go, once.
    expect(await store.collect(b.id)).toBe(true);
    expect(await store.collect(b.id)).toBe(false);
    expect(await artifacts.find(b.id)).toMatchObject({ current: false, prunedAt: expect.any(String) });
    expect(await artifacts.findCurrent(appId, 'b'.repeat(40))).toBeUndefined();

    // Its bytes could not be deleted: it is live and current again.
    await store.restore(b);
    expect(await artifacts.find(b.id)).toMatchObject({ current: true, prunedAt: null });
    expect((await artifacts.findCurrent(appId, 'b'.repeat(40)))?.id).toBe(b.id);
  });

  it('restores a collected artifact as replaced when a rebuild made another current meanwhile', async () => {
    const artifacts = new SqlArtifactStore(database.db);
    const store = new SqlRetentionStore(database.db);
    const old = await artifacts.insertCurrent({
      appId,
      sha: 'c'.repeat(40),
      digest: 'sha256:c',
      size: 1,
      buildId: 'b1',
    });
    expect(await store.collect(old.id)).toBe(true);
    const rebuilt = await artifacts.insertCurrent({
      appId,
      sha: 'c'.repeat(40),
      digest: 'sha256:c',
      size: 1,
      buildId: 'b2',
    });
    await store.restore(old);
    expect(await artifacts.find(old.id)).toMatchObject({ current: false, prunedAt: null });
    expect((await artifacts.findCurrent(appId, 'c'.repeat(40)))?.id).toBe(rebuilt.id);
  });

  it('tells when another live artifact has the same bytes: a tarball by digest, an image by reference', async () => {
    const artifacts = new SqlArtifactStore(database.db);
    const store = new SqlRetentionStore(database.db);
    const one = await artifacts.insertCurrent({
      appId,
      sha: 'd'.repeat(40),
      digest: 'sha256:same',
      size: 1,
      buildId: 'b1',
    });
    const two = await artifacts.insertCurrent({
      appId,
      sha: 'e'.repeat(40),
      digest: 'sha256:same',
      size: 1,
      buildId: 'b2',
    });
    expect(await store.shared(one)).toBe(true);
    await store.collect(two.id);
    expect(await store.shared(one)).toBe(false);

    const digest = `sha256:${'f'.repeat(64)}`;
    const image = (sha: string, repo: string) =>
      artifacts.insertCurrent({
        appId,
        sha,
        kind: 'image',
        digest,
        reference: `127.0.0.1:5000/${repo}@${digest}`,
        size: 1,
        buildId: sha,
      });
    const i1 = await image('1'.repeat(40), 'shop');
    await image('2'.repeat(40), 'other');
    // The same digest in another repository is another image.
    expect(await store.shared(i1)).toBe(false);
    await image('3'.repeat(40), 'shop');
    expect(await store.shared(i1)).toBe(true);
  });
});
