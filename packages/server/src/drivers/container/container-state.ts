import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../process/env-state.js';

/** One container the driver created for the environment. */
export interface ContainerRecord {
  /** Container name, `gantry-<app>-<env>-<sha12>-<n>`; the key everywhere. */
  name: string;
  id: string;
  sha: string;
  /** The image manifest's digest (the release's identity), and the reference it was pulled by. */
  digest: string;
  reference: string;
  deploymentId: string;
  /** Where the app answers on 127.0.0.1 (what the proxy forwards to). */
  port: number;
  createdAt: string;
}

/**
 * What the driver knows beyond the containers' labels: which container serves, the warm standbys
 * in order, and the sequence that numbers container names. Written atomically (temp file + rename).
 */
export interface ContainerEnvState {
  serving: string | null;
  /** Warm standby container names, most recent first. */
  standby: string[];
  containers: Record<string, ContainerRecord>;
  seq: number;
}

export function emptyContainerState(): ContainerEnvState {
  return { serving: null, standby: [], containers: {}, seq: 0 };
}

export function containerStateFile(workdir: string): string {
  return join(workdir, 'containers.json');
}

export async function readContainerState(workdir: string): Promise<ContainerEnvState> {
  const text = await readFile(containerStateFile(workdir), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!text) return emptyContainerState();
  return { ...emptyContainerState(), ...(JSON.parse(text) as Partial<ContainerEnvState>) };
}

export async function writeContainerState(workdir: string, state: ContainerEnvState): Promise<void> {
  await writeJsonAtomic(containerStateFile(workdir), state);
}

/** Read, change, write. Callers hold the environment's lock. */
export async function updateContainerState(
  workdir: string,
  change: (state: ContainerEnvState) => void,
): Promise<ContainerEnvState> {
  const state = await readContainerState(workdir);
  change(state);
  await writeContainerState(workdir, state);
  return state;
}

/** The container of `sha` (and `digest`, when both are known) among `names`, first match wins. */
export function findRecord(
  state: ContainerEnvState,
  names: Array<string | null>,
  sha: string,
  digest: string,
): ContainerRecord | undefined {
  for (const name of names) {
    const rec = name ? state.containers[name] : undefined;
    if (rec && rec.sha === sha && sameDigest(rec.digest, digest)) return rec;
  }
  return undefined;
}

/** An unknown digest ('') matches any: `plan` may be asked before the artifact is known. */
export function sameDigest(a: string, b: string): boolean {
  return !a || !b || a === b;
}
