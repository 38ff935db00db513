import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RepoMirror, UnknownRef } from '../../src/git/repo-mirror.js';
import { cleanupAll, createBareRepo, createWorkClone, git, makeTempDir } from '../support/git-fixtures.js';

afterAll(cleanupAll);

async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('.git'))
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('RepoMirror worktrees', () => {
  it('checks out exactly one SHA per worktree, two at once, and removes them', async () => {
    const bare = await createBareRepo();
    const work = await createWorkClone(bare.url);
    await work.write('a.txt', 'a1');
    await work.write('lib/b.txt', 'b');
    const first = await work.commit('first');
    await work.write('a.txt', 'a2');
    await work.run(['rm', '--quiet', 'lib/b.txt']);
    await work.write('c.txt', 'c');
    const second = await work.commit('second');
    await work.push();
    const mirror = new RepoMirror(join(await makeTempDir(), 'm.git'), bare.url, 'main');
    await mirror.ensure();

    const root = await makeTempDir('gantry-ws-');
    const dir1 = join(root, 'builds', 'one');
    const dir2 = join(root, 'builds', 'two');
    await Promise.all([mirror.addWorktree(first, dir1), mirror.addWorktree(second, dir2)]);

    expect(await filesIn(dir1)).toEqual(['a.txt', 'lib/b.txt']);
    expect(await filesIn(dir2)).toEqual(['a.txt', 'c.txt']);
    expect(await readFile(join(dir1, 'a.txt'), 'utf8')).toBe('a1');
    expect(await readFile(join(dir2, 'a.txt'), 'utf8')).toBe('a2');
    expect((await git(['rev-parse', 'HEAD'], dir1)).stdout.trim()).toBe(first);
    expect((await git(['rev-parse', 'HEAD'], dir2)).stdout.trim()).toBe(second);
    expect((await git(['status', '--porcelain'], dir2)).stdout).toBe('');

    await writeFile(join(dir2, 'build-output.txt'), 'untracked');
    await Promise.all([mirror.removeWorktree(dir1), mirror.removeWorktree(dir2)]);
    await expect(stat(dir1)).rejects.toThrow();
    await expect(stat(dir2)).rejects.toThrow();
    expect((await git(['worktree', 'list', '--porcelain'], mirror.path)).stdout).not.toContain('builds');
    await mirror.removeWorktree(dir1); // already removed: fine

    // Someone deleted the folder by hand.
    await mirror.addWorktree(second, dir1);
    await rm(dir1, { recursive: true, force: true });
    await mirror.removeWorktree(dir1);
    expect((await git(['worktree', 'list', '--porcelain'], mirror.path)).stdout).not.toContain('builds');

    await expect(mirror.addWorktree('b'.repeat(40), join(root, 'x'))).rejects.toBeInstanceOf(UnknownRef);
  });
});
