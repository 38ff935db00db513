import type { Readable } from 'node:stream';
import { InvalidInput } from '../../errors.js';

/** Content-addressed storage for packed artifacts; digests look like `sha256:<64 hex>`. */
export interface BlobStore {
  /** A fresh path where a blob can be written before `put`; the store may rename it into place. */
  tmpPath(): string;
  /** Moves `tmpFile` into the store under `digest`; if the blob already exists, the existing one is kept and `tmpFile` removed. */
  put(tmpFile: string, digest: string): Promise<void>;
  has(digest: string): Promise<boolean>;
  /** Throws NotFound when the blob is missing. */
  open(digest: string): Readable;
  /** Re-hashes the stored blob; false when its bytes no longer match the digest. */
  verify(digest: string): Promise<boolean>;
  /** Succeeds when the blob is already gone. */
  delete(digest: string): Promise<void>;
  /** A file on this machine holding the blob (a remote store downloads it first); NotFound when missing. */
  localPath(digest: string): Promise<string>;
}

const DIGEST = /^sha256:([0-9a-f]{64})$/;

/** Returns the hex part of a `sha256:<hex>` digest. */
export function digestHex(digest: string): string {
  const hex = DIGEST.exec(digest)?.[1];
  if (!hex) throw new InvalidInput(`invalid digest "${digest}"; expected sha256:<64 lowercase hex>`);
  return hex;
}
