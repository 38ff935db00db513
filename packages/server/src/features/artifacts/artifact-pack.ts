import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import { lstat, readdir, readlink, realpath, rm, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, constants as zlibConstants } from 'node:zlib';
import { type Header, type Pack, pack as tarPack } from 'tar-stream';
import { InvalidInput } from '../../errors.js';
import { assertLinkInside } from './assert-link-inside.js';

export { unpackArtifact, unpackStream } from './artifact-unpack.js';

export interface PackOptions {
  /** Called with the running total of file bytes packed. */
  onProgress?(bytes: number): void;
  /** How error messages name the folder, e.g. the `build.artifact.path` value from gantry.yaml. */
  displayPath?: string;
  /** Names at the top of the folder to leave out (the steps' HOME when the whole worktree is packed). */
  exclude?: string[];
}

export interface PackResult {
  digest: string;
  size: number;
}

interface Entry {
  rel: string;
  key: Buffer;
  abs: string;
  stats: Stats;
}

// Pinned so a zlib default change cannot change digests.
const GZIP_OPTIONS = {
  level: 6,
  memLevel: 8,
  windowBits: 15,
  strategy: zlibConstants.Z_DEFAULT_STRATEGY,
} as const;
// Bigger buffers mean fewer zlib thread-pool round trips; they do not change the bytes written.
const READ_CHUNK = 1 << 20;
const GZIP_CHUNK = 1 << 16;
const GZIP_OS_OFFSET = 9;
const GZIP_OS_UNIX = 3;
const FIXED = { mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '' } as const;

/** Packs `dir` into a deterministic tar.gz at `outFile`, hashing it as it is written. */
export async function packDirectory(
  dir: string,
  outFile: string,
  opts: PackOptions = {},
): Promise<PackResult> {
  const label = opts.displayPath ?? dir;
  const root = await resolveRoot(dir, label);
  if (resolve(outFile).startsWith(root + sep)) {
    throw new InvalidInput(
      `cannot write the artifact "${outFile}" inside the folder being packed ("${label}")`,
    );
  }
  const entries = await walk(root, label, new Set(opts.exclude));
  const tar = tarPack();
  const digest = new DigestStream();
  const producing = addEntries(tar, entries, opts.onProgress).catch((err: unknown) => {
    tar.destroy(err as Error);
    throw err;
  });
  const writing = pipeline(
    Readable.from(tar),
    createGzip({ ...GZIP_OPTIONS, chunkSize: GZIP_CHUNK }),
    digest,
    createWriteStream(outFile),
  );
  const [produced, written] = await Promise.allSettled([producing, writing]);
  if (produced.status === 'rejected' || written.status === 'rejected') {
    await rm(outFile, { force: true });
    throw written.status === 'rejected' ? written.reason : (produced as PromiseRejectedResult).reason;
  }
  return { digest: `sha256:${digest.hex()}`, size: digest.size };
}

async function resolveRoot(dir: string, label: string): Promise<string> {
  let stats: Stats;
  try {
    stats = await stat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new InvalidInput(
      `artifact path "${label}" does not exist after the build; check build.artifact.path in gantry.yaml`,
    );
  }
  if (!stats.isDirectory()) {
    throw new InvalidInput(
      `artifact path "${label}" is not a directory; check build.artifact.path in gantry.yaml`,
    );
  }
  return realpath(dir);
}

async function walk(root: string, label: string, exclude: Set<string>): Promise<Entry[]> {
  const entries: Entry[] = [];
  const visit = async (relDir: string, absDir: string): Promise<void> => {
    for (const name of await readdir(absDir)) {
      if (!relDir && exclude.has(name)) continue;
      const rel = relDir ? `${relDir}/${name}` : name;
      const abs = join(absDir, name);
      const stats = await lstat(abs);
      if (stats.isSymbolicLink()) await assertLinkInside(root, abs, rel);
      else if (!stats.isFile() && !stats.isDirectory()) {
        throw new InvalidInput(
          `artifact path "${label}" contains "${rel}", which is a ${kindOf(stats)}; only files, directories and symlinks can be packed`,
        );
      }
      entries.push({ rel, key: Buffer.from(rel), abs, stats });
      if (stats.isDirectory()) await visit(rel, abs);
    }
  };
  await visit('', root);
  return entries.sort((a, b) => Buffer.compare(a.key, b.key));
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'named pipe';
  if (stats.isSocket()) return 'socket';
  if (stats.isBlockDevice()) return 'block device';
  if (stats.isCharacterDevice()) return 'character device';
  return 'special file';
}

async function addEntries(tar: Pack, entries: Entry[], onProgress?: (bytes: number) => void): Promise<void> {
  let packed = 0;
  const progress = (bytes: number) => {
    packed += bytes;
    onProgress?.(packed);
  };
  for (const { rel, abs, stats } of entries) {
    if (stats.isDirectory()) {
      await addEntry(tar, { ...FIXED, name: `${rel}/`, type: 'directory', mode: 0o755 });
    } else if (stats.isSymbolicLink()) {
      const linkname = await readlink(abs);
      await addEntry(tar, { ...FIXED, name: rel, type: 'symlink', mode: 0o777, linkname });
    } else {
      const mode = stats.mode & 0o111 ? 0o755 : 0o644;
      await addFile(tar, { ...FIXED, name: rel, type: 'file', mode, size: stats.size }, abs, progress);
    }
  }
  tar.finalize();
}

function addEntry(tar: Pack, header: Partial<Header> & { name: string }, body?: Buffer): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolvePromise());
    if (body) tar.entry(header, body, done);
    else tar.entry(header, done);
  });
}

function addFile(
  tar: Pack,
  header: Partial<Header> & { name: string; size: number },
  abs: string,
  progress: (bytes: number) => void,
): Promise<void> {
  if (header.size === 0) return addEntry(tar, header, Buffer.alloc(0));
  return new Promise((resolvePromise, reject) => {
    const sink = tar.entry(header, (err) => (err ? reject(err) : resolvePromise()));
    // Reading exactly `size` bytes makes a file that changes mid-pack fail with a size mismatch.
    const source = createReadStream(abs, { start: 0, end: header.size - 1, highWaterMark: READ_CHUNK });
    source.on('error', (err) => sink.destroy(err));
    source.on('data', (chunk) => {
      progress(chunk.length);
      if (!sink.write(chunk)) {
        source.pause();
        sink.once('drain', () => source.resume());
      }
    });
    source.on('end', () => sink.end(undefined));
    sink.on('close', () => source.destroy());
  });
}

class DigestStream extends Transform {
  size = 0;
  private readonly hash = createHash('sha256');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // zlib stamps the build OS into the gzip header (19 on macOS); pin it so digests match across hosts.
    const osIndex = GZIP_OS_OFFSET - this.size;
    if (osIndex >= 0 && osIndex < chunk.length) chunk[osIndex] = GZIP_OS_UNIX;
    this.size += chunk.length;
    this.hash.update(chunk);
    callback(null, chunk);
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}
