import { mkdir } from 'node:fs/promises';
import {
  type DeployResult,
  type DriverContext,
  type EnvironmentSpec,
  type Release,
  tarballOf,
} from '@gantry/driver-api';
import { assertSafeSha, type DriverKit, envUrl, requireRun } from './driver-kit.js';
import { readEnvState, updateEnvState } from './env-state.js';
import { isReleaseProcess } from './find-release-processes.js';
import { probeHealth } from './health-check.js';
import { shortSha, standbyCount } from './plan-process-deploy.js';
import { openProxy, setProxyUpstream } from './proxy-control.js';
import { ensureUnpacked, unpackedDigest } from './release-folders.js';
import { forgetProcess, launchRelease } from './release-runner.js';
import { pruneFolders, stopUnwanted } from './retire-releases.js';

/**
 * After Gantry (re)starts: adopts the proxy and the serving release when they still run and answer,
 * starts them again otherwise, keeps the wanted standbys warm and stops every other process.
 */
export async function restoreEnvironment(
  kit: DriverKit,
  env: EnvironmentSpec,
  serving: Release,
  ctx: DriverContext,
): Promise<DeployResult> {
  const { workdir } = ctx;
  const { sha } = serving;
  assertSafeSha(sha);
  await mkdir(workdir, { recursive: true });
  const proxy = await openProxy(workdir, env, kit.nodePath, kit.listenHost);
  const before = await readEnvState(workdir);
  // As after a switch: what served before (a deployment Gantry did not see finish) stays warm.
  const warm = [before.serving, ...before.standby].filter((s): s is string => !!s && s !== sha);
  ctx.phase('health');
  const adopted = await adopt(kit, env, workdir, sha);
  const port = adopted?.port ?? (await startAgain(kit, env, serving, ctx));
  ctx.phase('switch');
  const current = await proxy.ready;
  if (current.upstream?.port !== port || current.upstream.sha !== sha) {
    await setProxyUpstream(workdir, { port, sha }, ctx.fence);
  }
  await updateEnvState(workdir, (s) => {
    s.serving = sha;
    s.history = [sha, ...s.history.filter((h) => h !== sha)];
  });
  const standby = await restoreStandbys(kit, env, [...new Set(warm)].slice(0, standbyCount(env)), ctx);
  ctx.phase('drain');
  await stopUnwanted(kit, workdir, new Set([sha, ...standby]), ctx);
  ctx.phase('cleanup');
  await pruneFolders(kit, workdir);
  return { url: envUrl(env, kit.listenHost), kind: adopted ? 'noop' : 'start' };
}

async function startAgain(
  kit: DriverKit,
  env: EnvironmentSpec,
  serving: Release,
  ctx: DriverContext,
): Promise<number> {
  const { workdir } = ctx;
  ctx.phase('unpack');
  await ensureUnpacked(workdir, serving.sha, tarballOf(serving, 'process'));
  ctx.phase('start');
  const launched = await launchRelease({
    workdir,
    env,
    sha: serving.sha,
    digest: serving.artifact.digest,
    baseEnv: kit.baseEnv,
    signal: ctx.signal,
    onHealthWait: () => ctx.phase('health'),
  });
  kit.supervisor.watch({ workdir, sha: serving.sha, pid: launched.pid, child: launched.child });
  return launched.port;
}

/** Takes over a release process left from before when it is still ours and answers its health path. */
async function adopt(
  kit: DriverKit,
  env: EnvironmentSpec,
  workdir: string,
  sha: string,
): Promise<{ port: number } | null> {
  const run = requireRun(env);
  const proc = (await readEnvState(workdir)).processes[sha];
  if (!proc) return null;
  const alive = isReleaseProcess(proc.pid, workdir, sha);
  if (alive && (await probeHealth(proc.port, run.health.path, 2_000)).ok) {
    kit.supervisor.watch({ workdir, sha, pid: proc.pid });
    return { port: proc.port };
  }
  kit.supervisor.unwatch(workdir, sha);
  await forgetProcess(workdir, sha, proc.pid);
  return null;
}

/** Keeps the wanted standbys warm, adopting or restarting them. */
async function restoreStandbys(
  kit: DriverKit,
  env: EnvironmentSpec,
  wanted: string[],
  ctx: DriverContext,
): Promise<string[]> {
  const { workdir } = ctx;
  const kept: string[] = [];
  for (const sha of wanted) {
    try {
      if (!(await adopt(kit, env, workdir, sha))) {
        const digest = await unpackedDigest(workdir, sha);
        if (digest === null) continue;
        const launched = await launchRelease({
          workdir,
          env,
          sha,
          digest,
          baseEnv: kit.baseEnv,
          signal: ctx.signal,
        });
        kit.supervisor.watch({ workdir, sha, pid: launched.pid, child: launched.child });
      }
      kept.push(sha);
    } catch (err) {
      ctx.logger.warn(`warm standby ${shortSha(sha)} could not be started again: ${(err as Error).message}`);
    }
  }
  await updateEnvState(workdir, (s) => {
    s.standby = kept;
  });
  return kept;
}
