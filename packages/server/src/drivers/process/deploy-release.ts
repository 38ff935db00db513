import { mkdir } from 'node:fs/promises';
import { type DeployResult, type DriverContext, type Release, tarballOf } from '@gantry/driver-api';
import { assertSafeSha, type DriverKit, envUrl, requireRun } from './driver-kit.js';
import { type ReleaseProcess, readEnvState } from './env-state.js';
import { isReleaseProcess } from './find-release-processes.js';
import { waitHealthy } from './health-check.js';
import { planProcessDeploy, shortSha } from './plan-process-deploy.js';
import { openProxy, setProxyUpstream } from './proxy-control.js';
import { ensureUnpacked } from './release-folders.js';
import { forgetProcess, launchRelease, ReleaseCancelled } from './release-runner.js';
import { retireAfterSwitch } from './retire-releases.js';
import { runningReleases } from './running-releases.js';

/**
 * Makes `target` serve its environment: a health check and a switch when it still runs (serving or
 * warm standby), otherwise unpack, start, wait healthy, switch. Until the switch nothing changes for
 * the release that serves; a failure or an abort before it stops only the new release.
 */
export async function deployRelease(
  kit: DriverKit,
  target: Release,
  ctx: DriverContext,
): Promise<DeployResult> {
  const { env, sha } = target;
  const { workdir } = ctx;
  const run = requireRun(env);
  assertSafeSha(sha);
  throwIfCancelled(ctx, sha);
  await mkdir(workdir, { recursive: true });
  const plan = planProcessDeploy({
    env,
    target: { sha, digest: target.artifact.digest },
    releases: await runningReleases(workdir),
  });
  ctx.logger.info(`deploying ${shortSha(sha)} to ${env.name}: ${plan.kind}`, { steps: plan.steps });
  const proxy = await openProxy(workdir, env, kit.nodePath, kit.listenHost);
  const url = envUrl(env, kit.listenHost);

  if (plan.kind !== 'start') {
    const proc = (await readEnvState(workdir)).processes[sha];
    ctx.phase('health');
    const healthy = proc && (await answersNow(workdir, run.health, proc, ctx.signal));
    throwIfCancelled(ctx, sha);
    if (healthy) {
      const current = await proxy.ready;
      if (plan.kind === 'switch' || current.upstream?.port !== proc.port || current.upstream.sha !== sha) {
        ctx.phase('switch');
        await setProxyUpstream(workdir, { port: proc.port, sha }, ctx.fence);
      }
      if (!kit.supervisor.watching(workdir).includes(sha))
        kit.supervisor.watch({ workdir, sha, pid: proc.pid });
      if (plan.kind === 'switch') await retireAfterSwitch(kit, env, sha, ctx);
      return { url, kind: plan.kind };
    }
    ctx.logger.warn(`release ${shortSha(sha)} runs but is not healthy; starting it again`);
    kit.supervisor.unwatch(workdir, sha);
    if (proc) await forgetProcess(workdir, sha, proc.pid);
  }

  ctx.phase('unpack');
  await ensureUnpacked(workdir, sha, tarballOf(target, 'process'));
  throwIfCancelled(ctx, sha);
  ctx.phase('start');
  const stale = (await readEnvState(workdir)).processes[sha];
  if (stale) {
    kit.supervisor.unwatch(workdir, sha);
    await forgetProcess(workdir, sha, stale.pid);
  }
  const launched = await launchRelease({
    workdir,
    env,
    sha,
    digest: target.artifact.digest,
    baseEnv: kit.baseEnv,
    signal: ctx.signal,
    onHealthWait: () => ctx.phase('health'),
  });
  ctx.phase('switch');
  try {
    await proxy.ready;
    throwIfCancelled(ctx, sha);
    await setProxyUpstream(workdir, { port: launched.port, sha }, ctx.fence);
  } catch (err) {
    await forgetProcess(workdir, sha, launched.pid);
    throw err;
  }
  kit.supervisor.watch({ workdir, sha, pid: launched.pid, child: launched.child });
  await retireAfterSwitch(kit, env, sha, ctx);
  return { url, kind: 'start' };
}

/** A release that runs already answered before; one that cannot answer now is started again. */
async function answersNow(
  workdir: string,
  health: { path: string; timeoutMs: number },
  proc: ReleaseProcess,
  signal: AbortSignal,
): Promise<boolean> {
  const outcome = await waitHealthy({
    port: proc.port,
    path: health.path,
    timeoutMs: Math.min(health.timeoutMs, 5_000),
    signal,
    hasExited: () => !isReleaseProcess(proc.pid, workdir, proc.sha),
  });
  return outcome.status === 'healthy';
}

function throwIfCancelled(ctx: DriverContext, sha: string): void {
  if (ctx.signal.aborted) throw new ReleaseCancelled(`the deployment of ${shortSha(sha)} was cancelled`);
}
