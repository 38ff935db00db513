import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, readdir, realpath, rm, symlink } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { type Extract, extract as tarExtract } from 'tar-stream';
import { InvalidInput } from '../../errors.js';
import { assertLinkInside } from './assert-link-inside.js';

type ExtractEntry = Extract extends AsyncIterable<infer T> ? T : never;

/** Extracts an artifact made by `packDirectory` into `destDir`, which must be missing or empty. */
export async function unpackArtifact(file: string, destDir: string): Promise<void> {
  await unpackStream(createReadStream(file), destDir);
}

/**
 * Like `unpackArtifact`, from a stream. Refuses absolute paths, `..`, writes through symlinks,
 * links leaving `destDir` and anything but files, directories and symlinks; on failure `destDir` is removed.
 */
export async function unpackStream(input: Readable, destDir: string): Promise<void> {
  await mkdir(destDir, { recursive: true });
  if ((await readdir(destDir)).length > 0) {
    input.destroy();
    throw new InvalidInput(`cannot unpack the artifact into "${destDir}": the folder is not empty`);
  }
  try {
    await extractInto(input, await realpath(destDir));
  } catch (err) {
    await rm(destDir, { recursive: true, force: true });
    throw err;
  }
}

async function extractInto(input: Readable, root: string): Promise<void> {
  const extract = tarExtract();
  const gunzip = createGunzip();
  // Wired by hand: pipeline() would call back once gunzip's input ends, before it reports a truncated stream.
  input.on('error', (err) => gunzip.destroy(err));
  gunzip.on('error', (err: NodeJS.ErrnoException) => {
    const corrupt =
      err.code?.startsWith('Z_') && new InvalidInput(`the artifact archive is corrupt: ${err.message}`);
    extract.destroy(corrupt || err);
  });
  input.pipe(gunzip).pipe(extract);
  const dirs = new Set<string>();
  const links: string[] = [];
  try {
    for await (const entry of extract) await writeEntry(root, entry, dirs, links);
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  for (const link of links) await assertLinkInside(root, join(root, link), link);
}

async function writeEntry(
  root: string,
  entry: ExtractEntry,
  dirs: Set<string>,
  links: string[],
): Promise<void> {
  const { header } = entry;
  const rel = safeRelativePath(header.name);
  if (rel === '' && header.type === 'directory') return void entry.resume();
  const abs = join(root, rel);
  switch (header.type) {
    case 'directory':
      await ensureDirectory(root, rel, dirs);
      return void entry.resume();
    case 'file': {
      await ensureDirectory(root, parentOf(rel), dirs);
      await pipeline(Readable.from(entry), createWriteStream(abs, { flags: 'wx' }));
      await chmod(abs, header.mode & 0o111 ? 0o755 : 0o644);
      return;
    }
    case 'symlink':
      if (isAbsolute(header.linkname)) {
        throw new InvalidInput(`artifact symlink "${rel}" -> "${header.linkname}" is absolute`);
      }
      await ensureDirectory(root, parentOf(rel), dirs);
      await symlink(header.linkname, abs);
      links.push(rel);
      return void entry.resume();
    default:
      throw new InvalidInput(
        `artifact entry "${header.name}" is a ${header.type}; only files, directories and symlinks are allowed`,
      );
  }
}

function safeRelativePath(name: string): string {
  if (name.startsWith('/')) throw new InvalidInput(`artifact entry "${name}" has an absolute path`);
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..'))
    throw new InvalidInput(`artifact entry "${name}" escapes the destination with ".."`);
  return parts.join('/');
}

function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return slash === -1 ? '' : rel.slice(0, slash);
}

/** Creates `rel` and its parents, refusing to pass through anything that is not a real directory. */
async function ensureDirectory(root: string, rel: string, known: Set<string>): Promise<void> {
  if (rel === '') return;
  let current = '';
  for (const part of rel.split('/')) {
    current = current ? `${current}/${part}` : part;
    if (known.has(current)) continue;
    const abs = join(root, current);
    const stats = await lstat(abs).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!stats) await mkdir(abs);
    else if (!stats.isDirectory()) {
      throw new InvalidInput(
        `artifact entry "${rel}" would be written through "${current}", which is not a directory`,
      );
    }
    await chmod(abs, 0o755);
    known.add(current);
  }
}
