import { cp, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { insideWorktree } from './build-sandbox.js';

/**
 * Folders kept between builds (node_modules…), keyed by the hash of the lock files at the built
 * commit. Restored before the steps, saved after a successful build if that key has none yet.
 */
export class BuildCache {
  constructor(private readonly root: string) {}

  private dir(appId: string, key: string): string {
    return join(this.root, appId, key);
  }

  async restore(appId: string, key: string, folders: string[], workdir: string): Promise<string[]> {
    const restored: string[] = [];
    for (const [i, folder] of folders.entries()) {
      const src = join(this.dir(appId, key), String(i));
      if (!(await exists(src))) continue;
      // A committed symlink (`deps -> /root`) must not make the server write outside the worktree.
      const dest = await insideWorktree(workdir, folder, 'cache folder');
      await cp(src, dest, { recursive: true, force: true, verbatimSymlinks: true });
      restored.push(folder);
    }
    return restored;
  }

  async save(appId: string, key: string, folders: string[], workdir: string): Promise<boolean> {
    const dest = this.dir(appId, key);
    if (await exists(dest)) return false;
    // …nor read outside it (`deps -> /root/.ssh` would be restored into the next build).
    const sources = await Promise.all(
      folders.map((folder) => insideWorktree(workdir, folder, 'cache folder')),
    );
    const tmp = `${dest}.tmp-${process.pid}-${Date.now()}`;
    await mkdir(tmp, { recursive: true });
    for (const [i, src] of sources.entries()) {
      if (await exists(src)) await cp(src, join(tmp, String(i)), { recursive: true, verbatimSymlinks: true });
    }
    try {
      await rename(tmp, dest);
      return true;
    } catch {
      await rm(tmp, { recursive: true, force: true });
      return false;
    }
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
