import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';

import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqlAppStore } from '../../src/features/apps/sql-app-store.js';
import { LocalBlobStore } from '../../src/features/artifacts/artifact-blob-store.js';
import { SharedBlobStore } from '../../src/features/artifacts/shared-blob-store.js';
import { SqlEnvironmentStore } from '../../src/features/environments/sql-environment-store.js';
import { engines } from '../support/engines.js';
import { cleanupAll, makeTempDir } from '../support/git-fixtures.js';
import { openTestDatabase } from '../support/test-database.js';

afterAll(cleanupAll);

describe.each(engines)('environment leases on $name', (engine) => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let envs: SqlEnvironmentStore;
  let envId: string;
  beforeEach(async () => {
    database = await openTestDatabase(engine);
    await new SqlAppStore(database.db).insert({
      id: 'app_1',
      name: 'shop',
      repoUrl: '/repo.git',
      branch: 'main',
      webhookSecret: 'secret',
      pollIntervalMs: 0,
    });
    envs = new SqlEnvironmentStore(database.db);
    envId = (await envs.ensure('app_1', 'qa', async () => 40123)).id;
  });
  afterEach(async () => database.close());

  it('hands the slot to one deployer at a time, with a fence that grows at every claim and takeover', async () => {
    const a = { owner: 'host-a:1:aa', ttlMs: 60_000 };
    const b = { owner: 'host-b:2:bb', ttlMs: 60_000 };
    const first = await envs.claimSlot(envId, 'dep_1', a);
    expect(first).toBe(1);
    expect(await envs.claimSlot(envId, 'dep_2', b)).toBeNull();
    expect(await envs.renewSlot(envId, 'dep_1', a)).toBe(true);
    expect(await envs.renewSlot(envId, 'dep_1', b)).toBe(false);
    // a live lease is not taken over
    const now = new Date().toISOString();
    expect(await envs.takeOverSlot(envId, 'dep_1', b, { now })).toBeNull();
    // once it has ended, it is; the fence grows and the old owner can neither renew nor free it
    const later = new Date(Date.now() + 120_000).toISOString();
    expect(await envs.takeOverSlot(envId, 'dep_1', b, { now: later })).toBe(2);
    expect(await envs.renewSlot(envId, 'dep_1', a)).toBe(false);
    await envs.releaseSlot(envId, 'dep_1', a.owner);
    expect((await envs.find('app_1', 'qa'))?.activeDeploymentId).toBe('dep_1');
    expect((await envs.heldSlots()).map((e) => e.lease?.owner)).toEqual([b.owner]);
    await envs.releaseSlot(envId, 'dep_1', b.owner);
    expect(await envs.find('app_1', 'qa')).toMatchObject({ activeDeploymentId: null, lease: null, fence: 2 });
    expect(await envs.claimSlot(envId, 'dep_2', b)).toBe(3);
  });

  it("takes over a dead owner's slot before its lease ends", async () => {
    const dead = { owner: 'here:999999:dd', ttlMs: 60_000 };
    await envs.claimSlot(envId, 'dep_1', dead);
    const now = new Date().toISOString();
    const me = { owner: 'here:1:me', ttlMs: 60_000 };
    expect(await envs.takeOverSlot(envId, 'dep_1', me, { now, deadOwner: 'someone-else' })).toBeNull();
    expect(await envs.takeOverSlot(envId, 'dep_1', me, { now, deadOwner: dead.owner })).toBe(2);
  });
});

describe.runIf(engines.some((e) => e.name === 'postgres'))('artifact blobs shared through PostgreSQL', () => {
  const engine = engines.find((e) => e.name === 'postgres')!;
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  beforeEach(async () => {
    database = await openTestDatabase(engine);
  });
  afterEach(async () => database.close());

  it('a blob put on one server is fetched whole on another, checked against its digest, and deleted everywhere', async () => {
    const one = new SharedBlobStore(new LocalBlobStore(await makeTempDir('blobs-1-')), database.db);
    const two = new SharedBlobStore(new LocalBlobStore(await makeTempDir('blobs-2-')), database.db);
    // three chunks and a bit
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) % 251;
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const tmp = one.tmpPath();
    await writeFile(tmp, bytes);
    await one.put(tmp, digest);
    expect(await two.has(digest)).toBe(true);
    expect(await two.verify(digest)).toBe(true);
    const path = await two.localPath(digest);
    expect((await readFile(path)).equals(bytes)).toBe(true);
    // a second put of the same bytes elsewhere is harmless
    const again = two.tmpPath();
    await writeFile(again, bytes);
    await two.put(again, digest);
    await one.delete(digest);
    const three = new SharedBlobStore(new LocalBlobStore(await makeTempDir('blobs-3-')), database.db);
    expect(await three.has(digest)).toBe(false);
    await expect(three.localPath(digest)).rejects.toThrow(/neither on this server nor in the database/);
  });

  it('refuses a blob whose stored bytes do not match its digest', async () => {
    const one = new SharedBlobStore(new LocalBlobStore(await makeTempDir('blobs-1-')), database.db);
    const bytes = Buffer.from('the real bytes\n');
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const tmp = one.tmpPath();
    await writeFile(tmp, bytes);
    await one.put(tmp, digest);
    await database.db
      .updateTable('artifact_blob_chunks')
      .set({ data: Buffer.from('other bytes!!!\n') })
      .where('digest', '=', digest)
      .execute();
    const dir = await makeTempDir('blobs-2-');
    const two = new SharedBlobStore(new LocalBlobStore(dir), database.db);
    await expect(two.localPath(digest)).rejects.toThrow(/does not match its digest/);
    expect(await new LocalBlobStore(dir).has(digest)).toBe(false);
  });
});
