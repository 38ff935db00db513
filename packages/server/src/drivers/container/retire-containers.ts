import type { DriverContext, EnvironmentSpec } from '@gantry/driver-api';
import type Docker from 'dockerode';
import { shortSha, standbyCount } from '../process/plan-process-deploy.js';
import { drained } from '../process/proxy-control.js';
import type { ContainerKit } from './container-kit.js';
import { environmentFilter, LABEL } from './container-labels.js';
import { containerStatus, listContainers, stopAndRemove } from './container-ops.js';
import { readContainerState, updateContainerState } from './container-state.js';

/**
 * After container `name` took over: the one that served before becomes the newest warm standby,
 * standbys beyond `env.standby` drain, stop and are removed, and so is every other container of
 * the environment (a leftover of a failed or interrupted deployment).
 */
export async function retireAfterSwitch(
  kit: ContainerKit,
  docker: Docker,
  env: EnvironmentSpec,
  name: string,
  ctx: DriverContext,
): Promise<void> {
  const { workdir } = ctx;
  const before = await readContainerState(workdir);
  const candidates = [before.serving, ...before.standby].filter((n): n is string => !!n && n !== name);
  const running: string[] = [];
  for (const n of new Set(candidates)) {
    const rec = before.containers[n];
    if (rec && (await containerStatus(docker, rec.id).catch(() => null))?.running) running.push(n);
  }
  const state = await updateContainerState(workdir, (s) => {
    s.serving = name;
    s.standby = running.slice(0, standbyCount(env));
  });
  for (const standby of state.standby) {
    const rec = state.containers[standby];
    if (rec && !kit.supervisor.watching(workdir).includes(standby)) {
      kit.supervisor.watch({ workdir, name: standby, sha: rec.sha });
    }
  }
  ctx.phase('drain');
  await stopUnwanted(kit, docker, env, new Set([name, ...state.standby]), ctx);
  ctx.phase('cleanup');
}

/**
 * Drains and removes every container of the environment not in `keep`: those in the state file,
 * and any other that carries the environment's labels (nothing is left untracked).
 */
export async function stopUnwanted(
  kit: ContainerKit,
  docker: Docker,
  env: EnvironmentSpec,
  keep: Set<string>,
  ctx: Pick<DriverContext, 'logger' | 'workdir'>,
): Promise<void> {
  const { workdir } = ctx;
  const state = await readContainerState(workdir);
  const extra = Object.values(state.containers).filter((c) => !keep.has(c.name));
  await Promise.all(
    extra.map(async (rec) => {
      kit.supervisor.unwatch(workdir, rec.name);
      if (!(await drained(workdir, rec.port, rec.sha, kit.drainTimeoutMs))) {
        ctx.logger.warn(`container ${rec.name} still had requests in flight; stopping it anyway`);
      }
      await stopAndRemove(docker, rec.id, kit.stopTimeoutS);
      ctx.logger.info(`removed container ${rec.name} of ${shortSha(rec.sha)}`);
    }),
  );
  const after = await updateContainerState(workdir, (s) => {
    for (const rec of extra) if (s.containers[rec.name]?.id === rec.id) delete s.containers[rec.name];
    s.standby = s.standby.filter((n) => s.containers[n]);
  });
  const tracked = new Set(Object.values(after.containers).map((c) => c.id));
  for (const c of await listContainers(docker, environmentFilter(env, workdir))) {
    if (tracked.has(c.Id)) continue;
    const name = c.Names?.[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12);
    ctx.logger.warn(`removing untracked container ${name} of ${shortSha(c.Labels?.[LABEL.sha] ?? '?')}`);
    await stopAndRemove(docker, c.Id, kit.stopTimeoutS);
  }
}
