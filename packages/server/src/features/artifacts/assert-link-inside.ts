import { lstat, readlink } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { InvalidInput } from '../../errors.js';

const MAX_HOPS = 40;

/**
 * Throws unless the symlink at `linkPath` resolves inside `root` (a realpath).
 * Follows the link one component at a time, as the OS would: a lexical check alone lets
 * `a/s -> ..` plus `a/t -> s/../x` escape, because `s/..` is `root/..`, not `a`.
 */
export async function assertLinkInside(root: string, linkPath: string, label: string): Promise<void> {
  await follow(root, dirname(linkPath), await readlink(linkPath), label, 0);
}

async function follow(
  root: string,
  from: string,
  target: string,
  label: string,
  hops: number,
): Promise<string> {
  if (isAbsolute(target)) {
    throw new InvalidInput(
      `symlink "${label}" -> "${target}" is absolute; artifacts may only hold relative links inside the artifact`,
    );
  }
  if (hops > MAX_HOPS) throw new InvalidInput(`symlink "${label}" is part of a symlink loop`);
  let current = from;
  let missing = false;
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (current === root) {
        throw new InvalidInput(`symlink "${label}" -> "${target}" points outside the artifact`);
      }
      current = dirname(current);
      continue;
    }
    const next = join(current, part);
    const stats = missing ? undefined : await lstatOrUndefined(next);
    if (!stats) missing = true;
    else if (stats.isSymbolicLink()) {
      current = await follow(root, current, await readlink(next), label, hops + 1);
      continue;
    }
    current = next;
  }
  return current;
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}
