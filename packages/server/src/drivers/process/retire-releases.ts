import type { DriverContext, EnvironmentSpec } from '@gantry/driver-api';
import type { DriverKit } from './driver-kit.js';
import { type EnvState, readEnvState, writeEnvState } from './env-state.js';
import { findReleaseGroups, isReleaseProcess } from './find-release-processes.js';
import { shortSha, standbyCount } from './plan-process-deploy.js';
import { stopProcessGroup } from './process-group.js';
import { drained } from './proxy-control.js';
import { pruneReleaseFolders } from './release-folders.js';

/**
 * After `sha` took over: the release that served before becomes the newest warm standby, standbys
 * beyond `env.standby` drain and stop, and release folders beyond the newest few are deleted.
 */
export async function retireAfterSwitch(
  kit: DriverKit,
  env: EnvironmentSpec,
  sha: string,
  ctx: DriverContext,
): Promise<void> {
  const { workdir } = ctx;
  const state = await readEnvState(workdir);
  const previous = state.serving;
  const candidates = [previous, ...state.standby].filter((s): s is string => !!s && s !== sha);
  const running = [...new Set(candidates)].filter((s) => runs(state, workdir, s));
  state.serving = sha;
  state.standby = running.slice(0, standbyCount(env));
  state.history = [sha, ...state.history.filter((s) => s !== sha)];
  await writeEnvState(workdir, state);
  for (const standby of state.standby) {
    const proc = state.processes[standby];
    if (proc && !kit.supervisor.watching(workdir).includes(standby)) {
      kit.supervisor.watch({ workdir, sha: standby, pid: proc.pid });
    }
  }
  ctx.phase('drain');
  await stopUnwanted(kit, workdir, new Set([sha, ...state.standby]), ctx);
  ctx.phase('cleanup');
  await pruneFolders(kit, workdir);
}

/** Drains and stops every release process of the workdir not in `keep`, tracked or not. */
export async function stopUnwanted(
  kit: DriverKit,
  workdir: string,
  keep: Set<string>,
  ctx: Pick<DriverContext, 'logger'>,
): Promise<void> {
  const state = await readEnvState(workdir);
  const extra = Object.values(state.processes).filter((p) => !keep.has(p.sha));
  await Promise.all(
    extra.map(async (proc) => {
      kit.supervisor.unwatch(workdir, proc.sha);
      if (isReleaseProcess(proc.pid, workdir, proc.sha)) {
        if (!(await drained(workdir, proc.port, proc.sha, kit.drainTimeoutMs))) {
          ctx.logger.warn(`release ${shortSha(proc.sha)} still had requests in flight; stopping it anyway`);
        }
        await stopProcessGroup(proc.pid);
      }
    }),
  );
  const after = await readEnvState(workdir);
  for (const proc of extra) if (after.processes[proc.sha]?.pid === proc.pid) delete after.processes[proc.sha];
  await writeEnvState(workdir, after);
  const tracked = new Set(Object.values(after.processes).map((p) => p.pid));
  for (const group of findReleaseGroups(workdir)) {
    if (tracked.has(group.pgid)) continue;
    ctx.logger.warn(`stopping untracked process group ${group.pgid} of release ${shortSha(group.sha)}`);
    await stopProcessGroup(group.pgid);
  }
}

export async function pruneFolders(kit: DriverKit, workdir: string): Promise<void> {
  const state = await readEnvState(workdir);
  const protectedShas = [state.serving ?? '', ...state.standby, ...Object.keys(state.processes)];
  const deleted = await pruneReleaseFolders(workdir, state.history, kit.keepReleases, protectedShas);
  if (deleted.length === 0) return;
  const after = await readEnvState(workdir);
  after.history = after.history.filter((s) => !deleted.includes(s));
  await writeEnvState(workdir, after);
}

function runs(state: EnvState, workdir: string, sha: string): boolean {
  const proc = state.processes[sha];
  return !!proc && isReleaseProcess(proc.pid, workdir, sha);
}
