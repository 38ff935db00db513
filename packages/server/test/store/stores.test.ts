import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqlEventStore } from '../../src/events/sql-event-store.js';
import { SqlAppStore } from '../../src/features/apps/sql-app-store.js';
import { SqlArtifactStore } from '../../src/features/artifacts/sql-artifact-store.js';
import { SqlBuildStore } from '../../src/features/builds/sql-build-store.js';
import { SqlCommitStore } from '../../src/features/commits/sql-commit-store.js';
import { SqlDeploymentStore } from '../../src/features/deployments/sql-deployment-store.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { openTestDatabase } from '../support/test-database.js';

afterAll(cleanupAll);

describe.each(engines)('stores on $name', (engine) => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let appId: string;
  beforeEach(async () => {
    database = await openTestDatabase(engine);
    const app = await new SqlAppStore(database.db).insert({
      id: 'app_1',
      name: 'shop',
      repoUrl: '/repo.git',
      branch: 'main',
      webhookSecret: 'secret',
      pollIntervalMs: 0,
    });
    appId = app.id;
  });
  afterEach(async () => database.close());

  it('migrating again is a no-op', async () => {
    const again = await database.reopen();
    expect((await new SqlAppStore(again.db).list()).map((a) => a.name)).toEqual(['shop']);
    await again.close();
  });

  it('finishes a deployment as succeeded and verifying in one write, once', async () => {
    const deployments = new SqlDeploymentStore(database.db);
    const dep = await deployments.insert({
      appId,
      env: 'qa',
      sha: 'a'.repeat(40),
      previousSha: null,
      artifactId: null,
      digest: null,
      trigger: 'auto',
      actor: 't',
      reason: null,
      tag: null,
      forced: false,
      status: 'queued',
    });
    expect(await deployments.start(dep.id, 'runner')).toBe(true);
    expect((await deployments.find(dep.id))?.verification).toBeNull();
    expect(await deployments.finish(dep.id, { status: 'succeeded', verification: 'verifying' })).toBe(true);
    expect(await deployments.find(dep.id)).toMatchObject({ status: 'succeeded', verification: 'verifying' });
    expect((await deployments.verifying()).map((d) => d.id)).toEqual([dep.id]);
    expect(await deployments.finish(dep.id, { status: 'failed' })).toBe(false);
    // the verifier's guarded update from null does not start the checks a second time
    expect(await deployments.setVerification(dep.id, 'verifying', null)).toBe(false);
  });

  it('moves the app head only from the expected value', async () => {
    const apps = new SqlAppStore(database.db);
    expect(await apps.moveHead(appId, null, 'a1')).toBe(true);
    expect(await apps.moveHead(appId, null, 'b1')).toBe(false);
    expect(await apps.moveHead(appId, 'a1', 'b1')).toBe(true);
    expect((await apps.findById(appId))?.headSha).toBe('b1');
  });

  it('claims each queued build exactly once under concurrent runners', async () => {
    const builds = new SqlBuildStore(database.db, database.caps);
    for (let i = 0; i < 20; i++) {
      await builds.enqueue({ appId, sha: `sha${i}`, reason: 'push', requestedBy: 't', sloMs: 1000 });
    }
    const claimed: string[] = [];
    await Promise.all(
      ['r1', 'r2', 'r3', 'r4'].map(async (runner) => {
        for (;;) {
          const b = await builds.claimNext(runner);
          if (!b) return;
          expect(b.status).toBe('running');
          claimed.push(b.id);
        }
      }),
    );
    expect(claimed).toHaveLength(20);
    expect(new Set(claimed).size).toBe(20);
    expect(await builds.claimNext('r5')).toBeUndefined();
  });

  it('claims the oldest queued build first and guards finish by status', async () => {
    const builds = new SqlBuildStore(database.db, database.caps);
    const first = await builds.enqueue({ appId, sha: 'a', reason: 'push', requestedBy: 't', sloMs: 1 });
    await builds.enqueue({ appId, sha: 'b', reason: 'push', requestedBy: 't', sloMs: 1 });
    const claimed = await builds.claimNext('r');
    expect(claimed?.id).toBe(first.id);
    expect(await builds.finish(first.id, { status: 'succeeded' })).toBe(true);
    expect(await builds.finish(first.id, { status: 'failed' })).toBe(false);
    expect((await builds.find(first.id))?.status).toBe('succeeded');
  });

  it('supersedes queued builds of other SHAs, and cancels queued ones at once', async () => {
    const builds = new SqlBuildStore(database.db, database.caps);
    const a = await builds.enqueue({ appId, sha: 'a', reason: 'push', requestedBy: 't', sloMs: 1 });
    const b = await builds.enqueue({ appId, sha: 'b', reason: 'push', requestedBy: 't', sloMs: 1 });
    const c = await builds.enqueue({ appId, sha: 'c', reason: 'push', requestedBy: 't', sloMs: 1 });
    expect(await builds.supersedeQueued(appId, 'c')).toEqual([a.id, b.id].sort());
    expect(await builds.requestCancel(c.id)).toBe('cancelled');
    expect(await builds.requestCancel(c.id)).toBe('finished');
    expect((await builds.list({ appId })).map((x) => x.status)).toEqual([
      'cancelled',
      'superseded',
      'superseded',
    ]);
  });

  it('records steps and lists builds with a cursor, newest first', async () => {
    const builds = new SqlBuildStore(database.db, database.caps);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        (await builds.enqueue({ appId, sha: `s${i}`, reason: 'push', requestedBy: 't', sloMs: 1 })).id,
      );
    }
    const page1 = await builds.list({ limit: 2 });
    expect(page1.map((b) => b.id)).toEqual([ids[4], ids[3]]);
    const page2 = await builds.list({ limit: 2, before: page1[1]!.id });
    expect(page2.map((b) => b.id)).toEqual([ids[2], ids[1]]);
    await builds.insertSteps(ids[0]!, [
      { name: 'a', run: 'true' },
      { name: 'b', run: 'false' },
    ]);
    await builds.updateStep(ids[0]!, 1, { status: 'failed', exitCode: 1, logTail: 'x' });
    expect((await builds.steps(ids[0]!)).map((s) => [s.name, s.status, s.exitCode])).toEqual([
      ['a', 'pending', null],
      ['b', 'failed', 1],
    ]);
  });

  it('keeps one current artifact per SHA; a rebuild replaces it and keeps the old', async () => {
    const artifacts = new SqlArtifactStore(database.db);
    const one = await artifacts.insertCurrent({
      appId,
      sha: 'x',
      digest: 'sha256:1',
      size: 10,
      buildId: 'b1',
    });
    const two = await artifacts.insertCurrent({
      appId,
      sha: 'x',
      digest: 'sha256:2',
      size: 12,
      buildId: 'b2',
    });
    expect((await artifacts.findCurrent(appId, 'x'))?.id).toBe(two.id);
    expect((await artifacts.find(one.id))?.current).toBe(false);
    await artifacts.markPruned(one.id);
    expect([...(await artifacts.liveDigests())]).toEqual(['sha256:2']);
    expect((await artifacts.list({ appId })).map((a) => a.id)).toEqual([two.id]);
    expect((await artifacts.list({ appId, includePruned: true })).length).toBe(2);
  });

  it('keeps the kind and reference of an image artifact; tarballs stay the default kind', async () => {
    const artifacts = new SqlArtifactStore(database.db);
    const tarball = await artifacts.insertCurrent({
      appId,
      sha: 't',
      digest: 'sha256:t',
      size: 1,
      buildId: 'b1',
    });
    const digest = `sha256:${'a'.repeat(64)}`;
    const image = await artifacts.insertCurrent({
      appId,
      sha: 'i',
      kind: 'image',
      digest,
      reference: `127.0.0.1:5000/shop@${digest}`,
      size: 4_200_000_000,
      buildId: 'b2',
    });
    expect([tarball.kind, tarball.reference]).toEqual(['tarball', null]);
    expect(await artifacts.findCurrent(appId, 'i')).toMatchObject({
      kind: 'image',
      digest,
      reference: `127.0.0.1:5000/shop@${digest}`,
      size: 4_200_000_000,
    });
    // Images have no blob of Gantry's to keep.
    expect([...(await artifacts.liveDigests())]).toEqual(['sha256:t']);
    expect((await artifacts.find(image.id))?.current).toBe(true);
  });

  it("sets and clears an app's own registry", async () => {
    const apps = new SqlAppStore(database.db);
    expect((await apps.findById(appId))?.registry).toBeNull();
    const registry = {
      url: 'registry.example.com/team',
      insecure: false,
      username: 'ci',
      passwordEnv: 'SHOP_REGISTRY_PASSWORD',
      passwordFile: null,
    };
    await apps.setRegistry(appId, registry);
    expect((await apps.findById(appId))?.registry).toEqual(registry);
    await apps.setRegistry(appId, null);
    expect((await apps.findById(appId))?.registry).toBeNull();
  });

  it('inserts commits once and records pushes', async () => {
    const commits = new SqlCommitStore(database.db);
    const c = {
      appId,
      sha: 'abc',
      parents: ['p1', 'p2'],
      authorName: 'A',
      authorEmail: 'a@x',
      authoredAt: '2026-01-01T00:00:00.000Z',
      committedAt: '2026-01-01T00:00:01.000Z',
      message: 'merge',
      pushId: null,
    };
    expect(await commits.insertMany([c])).toEqual(['abc']);
    expect(await commits.insertMany([c])).toEqual([]);
    expect((await commits.find(appId, 'abc'))?.parents).toEqual(['p1', 'p2']);
    const push = await commits.recordPush({
      appId,
      ref: 'refs/heads/main',
      beforeSha: null,
      afterSha: 'abc',
      forced: false,
      source: 'hook',
      commitCount: 1,
      dropped: [],
    });
    expect((await commits.pushes(appId))[0]).toEqual(push);
  });

  it('appends events in order and lists them after an id', async () => {
    const events = new SqlEventStore(database.db);
    const a = await events.append({ type: 'build.queued', appId, subject: 'b1', actor: 't', data: { n: 1 } });
    const b = await events.append({
      type: 'build.started',
      appId,
      subject: 'b1',
      actor: 't',
      data: { n: 2 },
    });
    expect(b.id).toBeGreaterThan(a.id);
    expect(await events.lastId()).toBe(b.id);
    const after = await events.list({ after: a.id });
    expect(after).toEqual([b]);
    expect((await events.list({ types: ['build.queued'] })).map((e) => e.data)).toEqual([{ n: 1 }]);
  });
});
