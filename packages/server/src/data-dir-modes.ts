import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Folders under the data dir that hold secrets or other people's output: owner only. */
const PRIVATE_DIRS = ['logs', 'artifacts'];
/** Files that hold secrets: the CLI's admin token and the SQLite database (token hashes, webhook secrets). */
const PRIVATE_FILES = ['cli.json', 'gantry.db', 'gantry.db-wal', 'gantry.db-shm'];

/**
 * Makes the data dir 0700 and what holds secrets or logs 0600, whatever the umask. Files created
 * later get these modes where they are created; this also fixes a data dir made by an older Gantry
 * or with a permissive umask.
 */
export async function secureDataDir(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  for (const name of PRIVATE_FILES) await chmodIf(join(dataDir, name), 0o600);
  for (const name of PRIVATE_DIRS) await chmodTree(join(dataDir, name), name === 'logs');
}

/** The folder and its sub-folders 0700; with `files`, every file in it 0600 too. */
async function chmodTree(dir: string, files: boolean): Promise<void> {
  if (!(await chmodIf(dir, 0o700))) return;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await chmodTree(path, files);
    else if (files && entry.isFile()) await chmodIf(path, 0o600);
  }
}

/** chmod unless the path is missing or a symlink (never follow one out of the data dir). */
async function chmodIf(path: string, mode: number): Promise<boolean> {
  const stats = await lstat(path).catch(() => null);
  if (!stats || stats.isSymbolicLink()) return false;
  await chmod(path, mode);
  return true;
}
