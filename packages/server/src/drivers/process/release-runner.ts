import type { ChildProcess } from 'node:child_process';
import type { EnvironmentSpec } from '@gantry/driver-api';
import { requireRun } from './driver-kit.js';
import { updateEnvState } from './env-state.js';
import { findReleaseGroups, isReleaseProcess, RELEASE_DIR_ENV } from './find-release-processes.js';
import { freePort } from './free-port.js';
import { waitHealthy } from './health-check.js';
import { seconds, shortSha } from './plan-process-deploy.js';
import { stopProcessGroup } from './process-group.js';
import { appLogFile, releaseDir } from './release-folders.js';
import { fileSize, logTail, spawnRelease } from './release-process.js';

export interface LaunchedRelease {
  sha: string;
  pid: number;
  port: number;
  child: ChildProcess;
}

export interface LaunchOptions {
  workdir: string;
  env: EnvironmentSpec;
  sha: string;
  digest: string;
  baseEnv: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Called when the wait for health begins. */
  onHealthWait?(): void;
}

export class ReleaseCancelled extends Error {}

/**
 * Starts a release from its unpacked folder on a free port and waits until it answers its health
 * path. It is in the state file from the moment it runs, so a Gantry killed meanwhile leaves no
 * untracked process. A release that does not get healthy is stopped and the error says why.
 */
export async function launchRelease(opts: LaunchOptions): Promise<LaunchedRelease> {
  const { workdir, env, sha } = opts;
  const run = requireRun(env);
  const logFile = appLogFile(workdir, sha);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const from = await fileSize(logFile);
    const vars = {
      ...opts.baseEnv,
      ...env.config,
      ...env.secrets,
      [run.portEnv]: String(port),
      GANTRY_SHA: sha,
      GANTRY_ENV: env.name,
      GANTRY_APP: env.app,
      [RELEASE_DIR_ENV]: releaseDir(workdir, sha),
    };
    const proc = await spawnRelease(run.command, releaseDir(workdir, sha), vars, logFile);
    const startedAt = new Date().toISOString();
    await updateEnvState(workdir, (s) => {
      s.processes[sha] = { sha, digest: opts.digest, pid: proc.pid, port, startedAt };
    });
    opts.onHealthWait?.();
    const outcome = await waitHealthy({
      port,
      path: run.health.path,
      timeoutMs: run.health.timeoutMs,
      signal: opts.signal,
      hasExited: () => proc.exit() !== null,
    });
    if (outcome.status === 'healthy') return { sha, pid: proc.pid, port, child: proc.child };
    await forgetProcess(workdir, sha, proc.pid);
    const tail = (await logTail(logFile, from)) || '(the log is empty)';
    const exit = proc.exit();
    // Another process may take the free port between our check and the app's bind; try once more.
    if (outcome.status === 'exited' && attempt === 1 && tail.includes('EADDRINUSE')) continue;
    const short = shortSha(sha);
    if (outcome.status === 'aborted') {
      throw new ReleaseCancelled(`the deployment of ${short} was cancelled; release ${short} was stopped`);
    }
    if (outcome.status === 'exited') {
      const how = exit?.signal ? `signal ${exit.signal}` : `code ${exit?.code ?? 'unknown'}`;
      throw new Error(
        `release ${short} exited with ${how} before answering ${run.health.path} with 2xx; last log lines:\n${tail}`,
      );
    }
    throw new Error(
      `release ${short} did not answer ${run.health.path} with 2xx within ${seconds(run.health.timeoutMs)}; last log lines:\n${tail}\nlast health check: ${outcome.detail}`,
    );
  }
}

/** Stops a release's process group and drops it from the state file. */
export async function forgetProcess(workdir: string, sha: string, pid: number): Promise<void> {
  // A recorded pid may have been reused by a stranger; signal only a group that is still ours.
  const ours = isReleaseProcess(pid, workdir, sha) || findReleaseGroups(workdir).some((g) => g.pgid === pid);
  if (ours) await stopProcessGroup(pid);
  await updateEnvState(workdir, (s) => {
    if (s.processes[sha]?.pid === pid) delete s.processes[sha];
  });
}
