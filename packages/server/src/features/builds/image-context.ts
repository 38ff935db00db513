import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type Pack, pack as tarPack } from 'tar-stream';
import { assertLinkInside } from '../artifacts/assert-link-inside.js';

/** One file, folder or symlink of the build context, by its path in the tar. */
interface Entry {
  name: string;
  abs: string;
  stats: Stats;
}

export interface ContextSource {
  /** A realpath: the worktree, or the artifact folder (base images). */
  root: string;
  /** Where the files go in the tar: '' (the root) or e.g. `app`. */
  into: string;
  /** Names at the root never sent (`.git`, the steps' HOME). */
  skip: string[];
  /** `.dockerignore` patterns, in order (`!` negates). */
  ignore?: string[];
  /** Links must resolve inside `root` (as for tarball artifacts); otherwise they are sent as they are. */
  linksInside?: boolean;
}

const FIXED = { mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '' } as const;

/**
 * The build context as a tar stream, for Docker Engine's build API. The walk never follows a
 * symlink (`lstat`): a link is sent as a link, so nothing outside the worktree can reach the engine.
 * Sockets, pipes and devices are left out. `extra` files (a generated Dockerfile) come first.
 */
export async function contextTar(
  sources: ContextSource[],
  extra: { name: string; body: string }[] = [],
): Promise<{ stream: Readable; files: number; bytes: number }> {
  const entries: Entry[] = [];
  for (const source of sources) entries.push(...(await walk(source)));
  const bytes = entries.reduce((n, e) => n + (e.stats.isFile() ? e.stats.size : 0), 0);
  const tar = tarPack();
  void (async () => {
    for (const { name, body } of extra) await add(tar, { ...FIXED, name, mode: 0o644 }, Buffer.from(body));
    for (const e of entries) {
      if (e.stats.isDirectory())
        await add(tar, { ...FIXED, name: `${e.name}/`, type: 'directory', mode: 0o755 });
      else if (e.stats.isSymbolicLink())
        await add(tar, {
          ...FIXED,
          name: e.name,
          type: 'symlink',
          mode: 0o777,
          linkname: await readlink(e.abs),
        });
      else await addFile(tar, e);
    }
    tar.finalize();
  })().catch((err: unknown) => tar.destroy(err as Error));
  return { stream: Readable.from(tar), files: entries.length, bytes };
}

async function walk(source: ContextSource): Promise<Entry[]> {
  const ignored = ignoreMatcher(source.ignore ?? []);
  const out: Entry[] = [];
  const visit = async (rel: string, abs: string): Promise<void> => {
    for (const name of (await readdir(abs)).sort()) {
      if (!rel && source.skip.includes(name)) continue;
      const path = rel ? `${rel}/${name}` : name;
      const full = join(abs, name);
      const stats = await lstat(full);
      const skipped = ignored(path);
      if (!skipped) {
        if (stats.isSymbolicLink() && source.linksInside) await assertLinkInside(source.root, full, path);
        if (stats.isFile() || stats.isDirectory() || stats.isSymbolicLink())
          out.push({ name: source.into ? `${source.into}/${path}` : path, abs: full, stats });
      }
      // An ignored folder may still hold an exception (`!dist/keep`), so it is walked when there is one.
      if (stats.isDirectory() && (!skipped || ignored.hasExceptions)) await visit(path, full);
    }
  };
  await visit('', source.root);
  return out;
}

/**
 * `.dockerignore` as Docker reads it: each line a pattern (`*`, `?`, `**`), `!` for an exception,
 * the last matching line decides, and a pattern matching a folder matches what is under it.
 */
export function ignoreMatcher(patterns: string[]): ((path: string) => boolean) & { hasExceptions: boolean } {
  const rules = patterns
    .map((p) => p.trim())
    .filter((p) => p && !p.startsWith('#'))
    .map((p) => {
      const negate = p.startsWith('!');
      const body = (negate ? p.slice(1) : p).trim().replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, re: globRegExp(body.replace(/^\.\//, '')) };
    })
    .filter((r) => r.re !== null) as { negate: boolean; re: RegExp }[];
  const match = (path: string): boolean => {
    let excluded = false;
    const parts = path.split('/');
    for (const rule of rules) {
      for (let n = 1; n <= parts.length; n++) {
        if (rule.re.test(parts.slice(0, n).join('/'))) {
          excluded = !rule.negate;
          break;
        }
      }
    }
    return excluded;
  };
  return Object.assign(match, { hasExceptions: rules.some((r) => r.negate) });
}

function globRegExp(glob: string): RegExp | null {
  if (!glob || glob === '.') return null;
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The `.dockerignore` lines next to the context, or none. */
export async function readDockerignore(root: string): Promise<string[]> {
  const text = await readFile(join(root, '.dockerignore'), 'utf8').catch(() => '');
  return text.split(/\r?\n/);
}

function add(tar: Pack, header: Parameters<Pack['entry']>[0], body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    if (body) tar.entry(header, body, done);
    else tar.entry(header, done);
  });
}

function addFile(tar: Pack, e: Entry): Promise<void> {
  const mode = e.stats.mode & 0o111 ? 0o755 : 0o644;
  const header = { ...FIXED, name: e.name, type: 'file' as const, mode, size: e.stats.size };
  if (e.stats.size === 0) return add(tar, header, Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const sink = tar.entry(header, (err) => (err ? reject(err) : resolve()));
    // Exactly `size` bytes: a file that changes while it is sent fails with a size mismatch.
    const source = createReadStream(e.abs, { start: 0, end: e.stats.size - 1 });
    source.on('error', (err) => sink.destroy(err));
    source.pipe(sink);
  });
}
