import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, type ReadStream } from 'node:fs';
import { copyFile, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { NotFound } from '../../errors.js';
import { type BlobStore, digestHex } from './blob-store.js';

/** Blobs on the local disk at `<root>/sha256/<hex>.tar.gz`. */
export class LocalBlobStore implements BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async localPath(digest: string): Promise<string> {
    if (!(await this.has(digest))) throw new NotFound(`artifact blob ${digest} is missing from ${this.root}`);
    return this.pathFor(digest);
  }

  pathFor(digest: string): string {
    return join(this.root, 'sha256', `${digestHex(digest)}.tar.gz`);
  }

  /** A path under `<root>/tmp`, on the same filesystem as the blobs so `put` can rename atomically. */
  tmpPath(): string {
    const dir = join(this.root, 'tmp');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return join(dir, `${randomUUID()}.tmp`);
  }

  async has(digest: string): Promise<boolean> {
    try {
      return (await stat(this.pathFor(digest))).isFile();
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async put(tmpFile: string, digest: string): Promise<void> {
    const dest = this.pathFor(digest);
    if (await this.has(digest)) {
      await rm(tmpFile, { force: true });
      return;
    }
    await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
    // Flush before the rename so a crash cannot leave a complete-looking name over partial bytes.
    await syncPath(tmpFile, 'r+');
    try {
      await rename(tmpFile, dest);
    } catch (err) {
      if (!isCode(err, 'EXDEV')) throw err;
      const local = this.tmpPath();
      await copyFile(tmpFile, local);
      await rm(tmpFile, { force: true });
      return this.put(local, digest);
    }
    await syncPath(dirname(dest), 'r');
  }

  open(digest: string): ReadStream {
    const path = this.pathFor(digest);
    if (!existsSync(path)) throw new NotFound(`artifact blob ${digest} is not in the store`);
    return createReadStream(path);
  }

  async verify(digest: string): Promise<boolean> {
    const hash = createHash('sha256');
    await pipeline(this.open(digest), hash);
    return hash.digest('hex') === digestHex(digest);
  }

  async delete(digest: string): Promise<void> {
    await rm(this.pathFor(digest), { force: true });
  }
}

async function syncPath(path: string, flags: 'r' | 'r+'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isCode(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}

function isMissing(err: unknown): boolean {
  return isCode(err, 'ENOENT');
}
