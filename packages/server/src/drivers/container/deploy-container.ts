import { mkdir } from 'node:fs/promises';
import type { DeployResult, DriverContext, Release, RunningRelease } from '@gantry/driver-api';
import type Docker from 'dockerode';
import { assertSafeSha, envUrl } from '../process/driver-kit.js';
import { waitHealthy } from '../process/health-check.js';
import { shortSha } from '../process/plan-process-deploy.js';
import { openProxy, setProxyUpstream } from '../process/proxy-control.js';
import {
  type ContainerKit,
  type ContainerRun,
  DeploymentCancelled,
  requireContainerRun,
} from './container-kit.js';
import { containerStatus, imageOf, pullImage, stopAndRemove } from './container-ops.js';
import {
  type ContainerRecord,
  findRecord,
  readContainerState,
  updateContainerState,
} from './container-state.js';
import { planContainerDeploy } from './plan-container-deploy.js';
import { retireAfterSwitch } from './retire-containers.js';
import { startContainer } from './start-container.js';

/**
 * Makes `target` serve its environment: a health check and a switch when its container still runs
 * (serving or warm standby), otherwise pull by digest, create, start, wait healthy, switch. Until the
 * switch nothing changes for the container that serves; a failure or an abort before it removes only
 * the new container.
 */
export async function deployContainer(
  kit: ContainerKit,
  target: Release,
  ctx: DriverContext,
): Promise<DeployResult> {
  const { env, sha } = target;
  const { workdir } = ctx;
  const run = requireContainerRun(env);
  assertSafeSha(sha);
  const image = imageOf(target);
  throwIfCancelled(ctx, sha);
  const { docker } = await kit.engine();
  await mkdir(workdir, { recursive: true });
  const plan = planContainerDeploy({
    env,
    target: { sha, digest: image.digest },
    releases: await runningContainers(docker, workdir),
  });
  ctx.logger.info(`deploying ${shortSha(sha)} (${image.reference}) to ${env.name}: ${plan.kind}`, {
    steps: plan.steps,
  });
  const proxy = await openProxy(workdir, env, kit.nodePath, kit.listenHost);
  const url = envUrl(env, kit.listenHost);

  if (plan.kind !== 'start') {
    const state = await readContainerState(workdir);
    const rec = findRecord(state, [state.serving, ...state.standby], sha, image.digest);
    ctx.phase('health');
    const healthy = rec && (await answersNow(docker, run, rec, ctx.signal));
    throwIfCancelled(ctx, sha);
    if (rec && healthy) {
      const current = await proxy.ready;
      if (plan.kind === 'switch' || current.upstream?.port !== rec.port || current.upstream.sha !== sha) {
        ctx.phase('switch');
        await setProxyUpstream(workdir, { port: rec.port, sha }, ctx.fence);
      }
      if (!kit.supervisor.watching(workdir).includes(rec.name)) {
        kit.supervisor.watch({ workdir, name: rec.name, sha });
      }
      if (plan.kind === 'switch') await retireAfterSwitch(kit, docker, env, rec.name, ctx);
      return { url, kind: plan.kind };
    }
    ctx.logger.warn(`the container of ${shortSha(sha)} is not healthy; starting a new one`);
    if (rec) await forget(kit, docker, workdir, rec);
  }

  ctx.phase('unpack');
  await pullImage(docker, image, ctx.signal, (line) => ctx.logger.info(`pull: ${line}`));
  throwIfCancelled(ctx, sha);
  ctx.phase('start');
  const started = await startContainer(kit, docker, target, image, ctx);
  try {
    ctx.phase('switch');
    try {
      await proxy.ready;
      throwIfCancelled(ctx, sha);
      await setProxyUpstream(workdir, { port: started.record.port, sha }, ctx.fence);
    } catch (err) {
      await forget(kit, docker, workdir, started.record);
      throw err;
    }
    kit.supervisor.watch({ workdir, name: started.record.name, sha });
    await retireAfterSwitch(kit, docker, env, started.record.name, ctx);
  } finally {
    await started.stopLogs();
  }
  return { url, kind: 'start' };
}

/** What the environment runs now, as `plan` takes it: the state file checked against the engine. */
export async function runningContainers(docker: Docker, workdir: string): Promise<RunningRelease[]> {
  const state = await readContainerState(workdir);
  const out: RunningRelease[] = [];
  const add = async (name: string | null, runState: RunningRelease['state']) => {
    const rec = name ? state.containers[name] : undefined;
    if (!rec) return;
    const status = await containerStatus(docker, rec.id).catch(() => null);
    if (status?.running) out.push({ sha: rec.sha, digest: rec.digest, state: runState });
  };
  await add(state.serving, 'serving');
  for (const name of state.standby) await add(name, 'standby');
  return out;
}

/** A container that runs already answered before; one that cannot answer now is replaced. */
async function answersNow(
  docker: Docker,
  run: ContainerRun,
  rec: ContainerRecord,
  signal: AbortSignal,
): Promise<boolean> {
  let exited = !(await containerStatus(docker, rec.id).catch(() => null))?.running;
  if (exited) return false;
  const outcome = await waitHealthy({
    port: rec.port,
    path: run.health.path,
    timeoutMs: Math.min(run.health.timeoutMs, 5_000),
    signal,
    hasExited: () => exited,
    intervalMs: 100,
  });
  exited = true;
  return outcome.status === 'healthy';
}

/** Stops and removes a container and drops it from the state file. */
export async function forget(
  kit: ContainerKit,
  docker: Docker,
  workdir: string,
  rec: ContainerRecord,
): Promise<void> {
  kit.supervisor.unwatch(workdir, rec.name);
  await stopAndRemove(docker, rec.id, kit.stopTimeoutS);
  await updateContainerState(workdir, (s) => {
    if (s.containers[rec.name]?.id === rec.id) delete s.containers[rec.name];
    if (s.serving === rec.name) s.serving = null;
    s.standby = s.standby.filter((n) => n !== rec.name);
  });
}

export function throwIfCancelled(ctx: DriverContext, sha: string): void {
  if (ctx.signal.aborted) throw new DeploymentCancelled(`the deployment of ${shortSha(sha)} was cancelled`);
}
