import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RepoMirror } from '../../src/git/repo-mirror.js';
import { cleanupAll, createBareRepo, createWorkClone, git, makeTempDir } from '../support/git-fixtures.js';

afterAll(cleanupAll);

describe('fetching into a mirror while builds add and remove worktrees', () => {
  it('never fails either side (git fetch walks the HEADs of all worktrees)', async () => {
    const bare = await createBareRepo();
    const work = await createWorkClone(bare.url);
    await work.write('a.txt', 'a');
    const shas = [await work.commit('first')];
    await work.push();
    const mirror = new RepoMirror(join(await makeTempDir(), 'm.git'), bare.url, 'main');
    await mirror.ensure();
    const root = await makeTempDir('gantry-race-');

    const errors: string[] = [];
    let pushing = true;
    // Builds: worktrees of the known commits come and go all the time.
    const builders = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; pushing; i++) {
        const dir = join(root, `bld_${w}_${i}`);
        try {
          await mirror.addWorktree(shas[i % shas.length]!, dir);
          await mirror.removeWorktree(dir);
        } catch (e) {
          errors.push(`worktree: ${(e as Error).message}`);
        }
      }
    });
    // Pushes: each fetch brings new objects, so git checks their connectivity.
    for (let i = 0; i < 25; i++) {
      await work.write(`f${i}.txt`, `${i}`.repeat(100));
      const sha = await work.commit(`c${i}`);
      await work.push();
      try {
        await mirror.fetch();
        shas.push(sha);
      } catch (e) {
        errors.push(`fetch: ${(e as Error).message}`);
      }
    }
    pushing = false;
    await Promise.all(builders);

    expect(errors).toEqual([]);
    expect(await mirror.headOf()).toBe(shas.at(-1));
    expect((await git(['worktree', 'list', '--porcelain'], mirror.path)).stdout).not.toContain('bld_');
    await git(['fsck', '--connectivity-only'], mirror.path); // throws when the mirror is broken
  });
});
