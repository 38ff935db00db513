import { lstat, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The last release the deploy script installed and saw healthy; the driver's only memory. */
export interface CommandState {
  sha: string;
  digest: string;
  artifact: string;
  /** Absent in state written before images existed: a tarball. */
  kind?: 'tarball' | 'image';
  deploymentId: string;
  deployedAt: string;
}

const STATE_FILE = 'command-state.json';

export async function readCommandState(workdir: string): Promise<CommandState | null> {
  try {
    // The workdir is the scripts' too: a link they put here (to a secret of the host) is not read.
    if (!(await ownFile(join(workdir, STATE_FILE)))) return null;
    return JSON.parse(await readFile(join(workdir, STATE_FILE), 'utf8')) as CommandState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Writes through a rename so that a kill mid-write leaves the old state, never half a file. */
export async function writeCommandState(workdir: string, state: CommandState | null): Promise<void> {
  const file = join(workdir, STATE_FILE);
  if (!state) return rm(file, { force: true });
  const tmp = `${file}.${process.pid}.tmp`;
  // `wx` never writes through a link a script left under that name; rename replaces a link itself.
  await rm(tmp, { recursive: true, force: true });
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { flag: 'wx' });
  await rename(tmp, file);
}

/**
 * False when `file` does not exist; true when it is a plain file of its own. Anything else a script
 * put in its place (a symlink, a hard link, a folder) is removed, so the server never follows it.
 */
export async function ownFile(file: string): Promise<boolean> {
  const stats = await lstat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!stats) return false;
  if (stats.isFile() && stats.nlink === 1) return true;
  await rm(file, { recursive: true, force: true });
  return false;
}
