import type { ChildProcess } from 'node:child_process';
import type {
  DeployResult,
  Driver,
  DriverContext,
  DriverLogger,
  EnvironmentSpec,
  HealthReport,
  Release,
  RunningRelease,
} from '@gantry/driver-api';
import { KeyedMutex } from '../../lib/keyed-mutex.js';
import { deployRelease } from './deploy-release.js';
import { type DriverKit, requireRun } from './driver-kit.js';
import { readEnvState, updateEnvState, writeEnvState } from './env-state.js';
import { findReleaseGroups, isReleaseProcess } from './find-release-processes.js';
import { probeHealth } from './health-check.js';
import { KEEP_RELEASE_FOLDERS, planProcessDeploy } from './plan-process-deploy.js';
import { stopProcessGroup } from './process-group.js';
import { readProxyState, readProxyTraffic, setProxyUpstream, stopProxy } from './proxy-control.js';
import { unpackedDigest } from './release-folders.js';
import { forgetProcess, launchRelease } from './release-runner.js';
import { restoreEnvironment } from './restore-environment.js';
import { runningReleases } from './running-releases.js';
import { DEFAULT_SUPERVISION, type SupervisionOptions, Supervisor } from './supervisor.js';

export interface ProcessDriverOptions {
  /** Node binary that runs the per-environment proxies; default `process.execPath`. */
  nodePath?: string;
  /** The address the environments' proxies listen on; default 127.0.0.1 (a deploy agent's `--listen`). */
  listenHost?: string;
  /** Environment the apps inherit before `env.config`; default `process.env`. */
  baseEnv?: NodeJS.ProcessEnv;
  /** Release folders kept on disk per environment; default 5. */
  keepReleases?: number;
  /** How long a retired release may finish its requests before it is stopped; default 30 s. */
  drainTimeoutMs?: number;
  supervision?: Partial<SupervisionOptions>;
}

export interface ProcessDriver extends Driver {
  /** What the environment has now (serving, warm standbys, folders on disk), as `plan` takes it. */
  releases(env: EnvironmentSpec, ctx: DriverContext): Promise<RunningRelease[]>;
  close(): Promise<void>;
}

interface Attached {
  env: EnvironmentSpec;
  report: DriverContext['report'];
  logger: DriverLogger;
}

/**
 * The embedded default driver: releases run as local process groups behind a per-environment
 * reverse proxy on the environment's port; the previous release stays warm so a rollback is a switch.
 * One instance serves every environment, each keyed by its `ctx.workdir`.
 */
export function createProcessDriver(opts: ProcessDriverOptions = {}): ProcessDriver {
  const locks = new KeyedMutex();
  // Crash reports happen outside any deployment, so they go to the context of the latest call.
  const attached = new Map<string, Attached>();
  const attach = (env: EnvironmentSpec, ctx: DriverContext) =>
    attached.set(ctx.workdir, { env, report: ctx.report, logger: ctx.logger });
  const supervisor = new Supervisor(
    {
      restart: (workdir, sha, deadPid) =>
        locks.run(workdir, () => restartCrashed(kit, attached, workdir, sha, deadPid)),
      report: (workdir, event) => attached.get(workdir)?.report(event),
      gaveUp: (workdir, sha) =>
        locks.run(workdir, async () => {
          await updateEnvState(workdir, (s) => {
            delete s.processes[sha];
            s.standby = s.standby.filter((x) => x !== sha);
          });
        }),
      warn: (workdir, msg) => attached.get(workdir)?.logger.warn(msg),
    },
    { ...DEFAULT_SUPERVISION, ...opts.supervision },
  );
  const kit: DriverKit = {
    nodePath: opts.nodePath ?? process.execPath,
    listenHost: opts.listenHost ?? '127.0.0.1',
    baseEnv: opts.baseEnv ?? process.env,
    keepReleases: opts.keepReleases ?? KEEP_RELEASE_FOLDERS,
    drainTimeoutMs: opts.drainTimeoutMs ?? 30_000,
    supervisor,
  };

  return {
    name: 'process',
    capabilities: { warmStandby: true, zeroDowntimeSwitch: true, adopt: true },
    plan: planProcessDeploy,
    deploy(target: Release, ctx: DriverContext): Promise<DeployResult> {
      return locks.run(ctx.workdir, () => {
        attach(target.env, ctx);
        return deployRelease(kit, target, ctx);
      });
    },
    restore(env: EnvironmentSpec, serving: Release, ctx: DriverContext): Promise<DeployResult> {
      return locks.run(ctx.workdir, () => {
        attach(env, ctx);
        return restoreEnvironment(kit, env, serving, ctx);
      });
    },
    health: (env, ctx) => environmentHealth(env, ctx.workdir),
    traffic: (env, ctx, query) => readProxyTraffic(ctx.workdir, env, query),
    stop(_env: EnvironmentSpec, ctx: DriverContext): Promise<void> {
      return locks.run(ctx.workdir, async () => {
        supervisor.unwatchAll(ctx.workdir);
        attached.delete(ctx.workdir);
        await stopEnvironment(ctx.workdir);
      });
    },
    releases: (_env, ctx) => runningReleases(ctx.workdir),
    async close(): Promise<void> {
      supervisor.close();
    },
  };
}

async function environmentHealth(env: EnvironmentSpec, workdir: string): Promise<HealthReport> {
  const run = requireRun(env);
  const proxy = await readProxyState(workdir);
  if (!proxy) {
    const { serving } = await readEnvState(workdir);
    return {
      healthy: false,
      sha: serving,
      detail: `the proxy of ${env.name} on port ${env.port} is not running`,
    };
  }
  if (!proxy.upstream) return { healthy: false, sha: null, detail: `no release serves ${env.name} yet` };
  const probe = await probeHealth(
    proxy.upstream.port,
    run.health.path,
    Math.min(run.health.timeoutMs, 5_000),
  );
  return probe.ok
    ? { healthy: true, sha: proxy.upstream.sha }
    : { healthy: false, sha: proxy.upstream.sha, detail: probe.detail };
}

async function stopEnvironment(workdir: string): Promise<void> {
  const state = await readEnvState(workdir);
  await Promise.all(
    Object.values(state.processes).map(async (p) => {
      if (isReleaseProcess(p.pid, workdir, p.sha)) await stopProcessGroup(p.pid);
    }),
  );
  for (const group of findReleaseGroups(workdir)) await stopProcessGroup(group.pgid);
  await stopProxy(workdir, { forget: true });
  await writeEnvState(workdir, { ...state, serving: null, standby: [], processes: {} });
}

/** The supervisor's restart: same release, new process and port; the proxy follows if it serves. */
async function restartCrashed(
  kit: DriverKit,
  attached: Map<string, Attached>,
  workdir: string,
  sha: string,
  deadPid: number,
): Promise<{ pid: number; child?: ChildProcess } | null> {
  const env = attached.get(workdir)?.env;
  const state = await readEnvState(workdir);
  if (!env || (state.serving !== sha && !state.standby.includes(sha))) return null;
  const proc = state.processes[sha];
  if (proc && proc.pid !== deadPid && isReleaseProcess(proc.pid, workdir, sha)) return { pid: proc.pid };
  // Only the `sh -c` that leads the group may have died (killed alone): the app it started would go
  // on running, untracked and holding its port. The group is the release; stop what is left of it.
  await forgetProcess(workdir, sha, deadPid);
  const launched = await launchRelease({
    workdir,
    env,
    sha,
    digest: proc?.digest ?? (await unpackedDigest(workdir, sha)) ?? '',
    baseEnv: kit.baseEnv,
  });
  if (state.serving === sha) await setProxyUpstream(workdir, { port: launched.port, sha });
  return { pid: launched.pid, child: launched.child };
}
