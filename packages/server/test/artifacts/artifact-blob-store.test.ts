import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../../src/features/artifacts/artifact-blob-store.js';
import { packDirectory } from '../../src/features/artifacts/artifact-pack.js';
import { makeTempDir, removeTempDirs, writeFiles } from './artifact-fixtures.js';

afterEach(removeTempDirs);

async function packInto(store: LocalBlobStore, work: string, content: string) {
  const dist = join(work, `dist-${content}`);
  await writeFiles(dist, { 'a.txt': content });
  const tmp = store.tmpPath();
  const packed = await packDirectory(dist, tmp);
  return { tmp, ...packed };
}

describe('LocalBlobStore', () => {
  it('puts, finds, opens, verifies and deletes a blob', async () => {
    const work = await makeTempDir();
    const store = new LocalBlobStore(join(work, 'store'));
    const { tmp, digest } = await packInto(store, work, 'one');
    const bytes = await readFile(tmp);

    expect(await store.has(digest)).toBe(false);
    await store.put(tmp, digest);
    expect(store.pathFor(digest)).toBe(join(work, 'store', 'sha256', `${digest.slice(7)}.tar.gz`));
    expect(await store.has(digest)).toBe(true);
    await expect(stat(tmp)).rejects.toThrow();
    expect(await store.verify(digest)).toBe(true);
    const chunks: Buffer[] = [];
    for await (const chunk of store.open(digest)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);

    await store.delete(digest);
    expect(await store.has(digest)).toBe(false);
    await store.delete(digest);
    expect(() => store.open(digest)).toThrow('is not in the store');
  });

  it('keeps the existing blob on a second put and removes the temp file', async () => {
    const work = await makeTempDir();
    const store = new LocalBlobStore(join(work, 'store'));
    const first = await packInto(store, work, 'same');
    await store.put(first.tmp, first.digest);
    const before = await stat(store.pathFor(first.digest));

    const second = await packInto(store, work, 'same');
    expect(second.digest).toBe(first.digest);
    await store.put(second.tmp, second.digest);
    await expect(stat(second.tmp)).rejects.toThrow();
    expect((await stat(store.pathFor(first.digest))).ino).toBe(before.ino);
    expect(await readdir(join(work, 'store', 'tmp'))).toEqual([]);
  });

  it('notices a corrupted blob', async () => {
    const work = await makeTempDir();
    const store = new LocalBlobStore(join(work, 'store'));
    const { tmp, digest } = await packInto(store, work, 'fragile');
    await store.put(tmp, digest);
    await writeFile(store.pathFor(digest), 'not the bytes you are looking for');
    expect(await store.verify(digest)).toBe(false);
  });

  it('rejects malformed digests', () => {
    const store = new LocalBlobStore('/nowhere');
    expect(() => store.pathFor('sha256:abc')).toThrow('invalid digest');
    expect(() => store.pathFor(`md5:${'a'.repeat(64)}`)).toThrow('invalid digest');
    expect(() => store.pathFor(`sha256:${'../'.repeat(21)}a`)).toThrow('invalid digest');
  });

  it('hands out distinct temp paths inside the store', async () => {
    const work = await makeTempDir();
    const store = new LocalBlobStore(join(work, 'store'));
    const a = store.tmpPath();
    expect(a.startsWith(join(work, 'store', 'tmp'))).toBe(true);
    expect(store.tmpPath()).not.toBe(a);
  });
});
