import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface ReleaseProcess {
  sha: string;
  digest: string;
  /** Leader of the release's process group. */
  pid: number;
  port: number;
  startedAt: string;
}

/** What runs in one environment: the driver's only memory, so a restarted Gantry can adopt it. */
export interface EnvState {
  serving: string | null;
  /** Warm standbys, most recent first. */
  standby: string[];
  processes: Record<string, ReleaseProcess>;
  /** Deployed SHAs, most recent first; decides which release folders are kept. */
  history: string[];
}

export function emptyEnvState(): EnvState {
  return { serving: null, standby: [], processes: {}, history: [] };
}

export function envStateFile(workdir: string): string {
  return join(workdir, 'state.json');
}

export async function readEnvState(workdir: string): Promise<EnvState> {
  const text = await readFile(envStateFile(workdir), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  return text ? { ...emptyEnvState(), ...(JSON.parse(text) as Partial<EnvState>) } : emptyEnvState();
}

export async function writeEnvState(workdir: string, state: EnvState): Promise<void> {
  await writeJsonAtomic(envStateFile(workdir), state);
}

/** Read, change, write. Callers hold the environment's lock. */
export async function updateEnvState(workdir: string, change: (state: EnvState) => void): Promise<EnvState> {
  const state = await readEnvState(workdir);
  change(state);
  await writeEnvState(workdir, state);
  return state;
}

/** Written to a temp file and renamed, so a crash leaves the old or the new file, never half of one. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, file);
}
