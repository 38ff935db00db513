import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Db } from '../../db/database.js';
import { NotFound } from '../../errors.js';
import { nowIso } from '../../ids.js';
import type { LocalBlobStore } from './artifact-blob-store.js';
import { type BlobStore, digestHex } from './blob-store.js';

const CHUNK = 1024 * 1024;

/**
 * Several servers on one PostgreSQL database: every blob is kept in the database too (in 1 MiB
 * chunks, written in one transaction, so a blob is there whole or not at all), and the local disk
 * is each server's cache of it. A server deploys an artifact another server built by fetching it
 * once, checked against its digest.
 */
export class SharedBlobStore implements BlobStore {
  constructor(
    private readonly local: LocalBlobStore,
    private readonly db: Db,
  ) {}

  tmpPath(): string {
    return this.local.tmpPath();
  }

  async put(tmpFile: string, digest: string): Promise<void> {
    await this.local.put(tmpFile, digest);
    await this.upload(digest);
  }

  async has(digest: string): Promise<boolean> {
    return (await this.local.has(digest)) || (await this.shared(digest)) !== undefined;
  }

  open(digest: string): Readable {
    try {
      return this.local.open(digest);
    } catch (e) {
      if (!(e instanceof NotFound)) throw e;
      return Readable.from(this.chunks(digest));
    }
  }

  async verify(digest: string): Promise<boolean> {
    const hash = createHash('sha256');
    for await (const chunk of this.open(digest)) hash.update(chunk as Buffer);
    return hash.digest('hex') === digestHex(digest);
  }

  async delete(digest: string): Promise<void> {
    await this.local.delete(digest);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('artifact_blobs').where('digest', '=', digest).execute();
      await trx.deleteFrom('artifact_blob_chunks').where('digest', '=', digest).execute();
    });
  }

  /** The blob on this machine: from the cache, or fetched from the database into it and checked. */
  async localPath(digest: string): Promise<string> {
    if (await this.local.has(digest)) return this.local.localPath(digest);
    const tmp = this.local.tmpPath();
    const hash = createHash('sha256');
    const file = await open(tmp, 'w', 0o600);
    try {
      for await (const chunk of this.chunks(digest)) {
        hash.update(chunk);
        await file.write(chunk);
      }
    } catch (e) {
      await file.close();
      await rm(tmp, { force: true });
      throw e;
    }
    await file.close();
    if (hash.digest('hex') !== digestHex(digest)) {
      await rm(tmp, { force: true });
      throw new Error(
        `artifact blob ${digest} in the database does not match its digest; rebuild the commit`,
      );
    }
    await this.local.put(tmp, digest);
    return this.local.localPath(digest);
  }

  /** Copies a local blob into the database, unless it is there already. */
  async upload(digest: string): Promise<void> {
    if (await this.shared(digest)) return;
    const path = await this.local.localPath(digest);
    await this.db
      .transaction()
      .execute(async (trx) => {
        let n = 0;
        let size = 0;
        for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) {
          const data = chunk as Buffer;
          await trx.insertInto('artifact_blob_chunks').values({ digest, n, data }).execute();
          n++;
          size += data.length;
        }
        await trx
          .insertInto('artifact_blobs')
          .values({ digest, size, chunks: n, created_at: nowIso() })
          .execute();
      })
      .catch(async (e: unknown) => {
        // Another server stored the same blob meanwhile (the same bytes: the digest says so).
        if (await this.shared(digest)) return;
        throw e;
      });
  }

  private shared(digest: string): Promise<{ chunks: number } | undefined> {
    return this.db
      .selectFrom('artifact_blobs')
      .select('chunks')
      .where('digest', '=', digest)
      .executeTakeFirst();
  }

  private async *chunks(digest: string): AsyncGenerator<Buffer> {
    const blob = await this.shared(digest);
    if (!blob) throw new NotFound(`artifact blob ${digest} is neither on this server nor in the database`);
    for (let n = 0; n < Number(blob.chunks); n++) {
      const row = await this.db
        .selectFrom('artifact_blob_chunks')
        .select('data')
        .where('digest', '=', digest)
        .where('n', '=', n)
        .executeTakeFirst();
      if (!row) throw new NotFound(`artifact blob ${digest} lost its part ${n} in the database`);
      yield Buffer.from(row.data);
    }
  }
}
