import type { RunningRelease } from '@gantry/driver-api';
import { readEnvState } from './env-state.js';
import { isReleaseProcess } from './find-release-processes.js';
import { listReleaseFolders, unpackedDigest } from './release-folders.js';

/** What the environment has now, from the state file checked against live processes and the disk. */
export async function runningReleases(workdir: string): Promise<RunningRelease[]> {
  const state = await readEnvState(workdir);
  const alive = (sha: string) => {
    const proc = state.processes[sha];
    return !!proc && isReleaseProcess(proc.pid, workdir, sha);
  };
  const out: RunningRelease[] = [];
  const seen = new Set<string>();
  const add = (sha: string, digest: string, runState: RunningRelease['state']) => {
    if (seen.has(sha)) return;
    seen.add(sha);
    out.push({ sha, digest, state: runState });
  };
  if (state.serving && alive(state.serving)) {
    add(state.serving, state.processes[state.serving]?.digest ?? '', 'serving');
  }
  for (const sha of state.standby) if (alive(sha)) add(sha, state.processes[sha]?.digest ?? '', 'standby');
  for (const sha of await listReleaseFolders(workdir)) {
    const digest = await unpackedDigest(workdir, sha);
    if (digest !== null) add(sha, digest, 'stopped');
  }
  return out;
}
