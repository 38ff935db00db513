import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The last release the deploy script installed and saw healthy; the driver's only memory. */
export interface CommandState {
  sha: string;
  digest: string;
  artifact: string;
  deploymentId: string;
  deployedAt: string;
}

const STATE_FILE = 'command-state.json';

export async function readCommandState(workdir: string): Promise<CommandState | null> {
  try {
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
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, file);
}
