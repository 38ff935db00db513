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
import { connectEngine, dockerClient, type Engine, engineOptions } from '../../containers/engine.js';
import { KeyedMutex } from '../../lib/keyed-mutex.js';
import { probeHealth } from '../process/health-check.js';
import { readProxyState, readProxyTraffic, stopProxy } from '../process/proxy-control.js';
import { DEFAULT_SUPERVISION, type SupervisionOptions } from '../process/supervisor.js';
import {
  type ContainerKit,
  type ContainerNetwork,
  type DriverEngine,
  requireContainerRun,
} from './container-kit.js';
import { environmentFilter } from './container-labels.js';
import { containerStatus, listContainers, stopAndRemove } from './container-ops.js';
import { readContainerState, updateContainerState, writeContainerState } from './container-state.js';
import { ContainerSupervisor } from './container-supervisor.js';
import { deployContainer, runningContainers } from './deploy-container.js';
import { planContainerDeploy } from './plan-container-deploy.js';
import { restartContainer } from './restart-container.js';
import { restoreContainers } from './restore-containers.js';

export interface ContainerDriverOptions {
  /** How to reach the engine; default `connectEngine()` (DOCKER_HOST, else the usual sockets). */
  connect?: () => Promise<Engine>;
  /** Node binary that runs the per-environment proxies; default `process.execPath`. */
  nodePath?: string;
  /** The address the environments' proxies listen on; default 127.0.0.1 (a deploy agent's `--listen`). */
  listenHost?: string;
  /** Default `host`; see ContainerNetwork for why. */
  network?: ContainerNetwork;
  /** The port the app listens on inside the container with `bridge` networking; default 8080. */
  containerPort?: number;
  /** How long a retired container may finish its requests before it is stopped; default 30 s. */
  drainTimeoutMs?: number;
  /** Seconds between SIGTERM and SIGKILL when a container stops; default 10. */
  stopTimeoutS?: number;
  supervision?: Partial<SupervisionOptions>;
}

export interface ContainerDriver extends Driver {
  /** What the environment runs now (serving, warm standbys), as `plan` takes it. */
  releases(env: EnvironmentSpec, ctx: DriverContext): Promise<RunningRelease[]>;
  close(): Promise<void>;
}

interface Attached {
  env: EnvironmentSpec;
  report: DriverContext['report'];
  logger: DriverLogger;
}

/**
 * Runs each release as a container (Docker Engine's API, so Docker and podman alike) behind the
 * same per-environment reverse proxy as the process driver; the previous container stays warm so
 * a rollback is a switch. The engine is connected at first use: a server without one starts, and
 * the error (where it looked, how to get one) surfaces when an environment uses `driver: container`.
 */
export function createContainerDriver(opts: ContainerDriverOptions = {}): ContainerDriver {
  const locks = new KeyedMutex();
  const attached = new Map<string, Attached>();
  // Crash reports happen outside any deployment, so they go to the context of the latest call.
  const attach = (env: EnvironmentSpec, ctx: DriverContext) =>
    attached.set(ctx.workdir, { env, report: ctx.report, logger: ctx.logger });
  let engine: Promise<DriverEngine> | null = null;
  const getEngine = (): Promise<DriverEngine> => {
    engine ??= (opts.connect ?? (() => connectEngine()))().then(
      async (found) => ({
        ...found,
        docker: await dockerClient({ ...engineOptions(found.endpoint), timeout: 120_000 }),
        streams: await dockerClient(engineOptions(found.endpoint)),
      }),
      (err: unknown) => {
        engine = null; // an engine started later is found at the next use
        throw err;
      },
    );
    return engine;
  };
  const supervisor = new ContainerSupervisor(
    {
      status: async (name) => containerStatus((await getEngine()).docker, name),
      restart: (workdir, name) =>
        locks.run(workdir, () => restartContainer(kit, workdir, name, attached.get(workdir))),
      report: (workdir, event) => attached.get(workdir)?.report(event),
      gaveUp: (workdir, name) =>
        locks.run(workdir, async () => {
          await updateContainerState(workdir, (s) => {
            s.standby = s.standby.filter((n) => n !== name);
          });
        }),
      warn: (workdir, msg) => attached.get(workdir)?.logger.warn(msg),
    },
    { ...DEFAULT_SUPERVISION, ...opts.supervision },
  );
  const kit: ContainerKit = {
    engine: getEngine,
    nodePath: opts.nodePath ?? process.execPath,
    listenHost: opts.listenHost ?? '127.0.0.1',
    network: opts.network ?? 'host',
    containerPort: opts.containerPort ?? 8080,
    drainTimeoutMs: opts.drainTimeoutMs ?? 30_000,
    stopTimeoutS: opts.stopTimeoutS ?? 10,
    supervisor,
  };

  return {
    name: 'container',
    capabilities: { warmStandby: true, zeroDowntimeSwitch: true, adopt: true },
    plan: planContainerDeploy,
    deploy(target: Release, ctx: DriverContext): Promise<DeployResult> {
      return locks.run(ctx.workdir, () => {
        attach(target.env, ctx);
        return deployContainer(kit, target, ctx);
      });
    },
    restore(env: EnvironmentSpec, serving: Release, ctx: DriverContext): Promise<DeployResult> {
      return locks.run(ctx.workdir, () => {
        attach(env, ctx);
        return restoreContainers(kit, env, serving, ctx);
      });
    },
    health: (env, ctx) => environmentHealth(env, ctx.workdir),
    traffic: (env, ctx, query) => readProxyTraffic(ctx.workdir, env, query),
    stop(env: EnvironmentSpec, ctx: DriverContext): Promise<void> {
      return locks.run(ctx.workdir, async () => {
        supervisor.unwatchAll(ctx.workdir);
        attached.delete(ctx.workdir);
        await stopEnvironment(kit, env, ctx.workdir);
      });
    },
    async releases(_env, ctx) {
      return runningContainers((await getEngine()).docker, ctx.workdir);
    },
    async close(): Promise<void> {
      supervisor.close();
    },
  };
}

async function environmentHealth(env: EnvironmentSpec, workdir: string): Promise<HealthReport> {
  const run = requireContainerRun(env);
  const proxy = await readProxyState(workdir);
  if (!proxy) {
    const state = await readContainerState(workdir);
    const serving = state.serving ? (state.containers[state.serving]?.sha ?? null) : null;
    return {
      healthy: false,
      sha: serving,
      detail: `the proxy of ${env.name} on port ${env.port} is not running`,
    };
  }
  if (!proxy.upstream) return { healthy: false, sha: null, detail: `no container serves ${env.name} yet` };
  const probe = await probeHealth(
    proxy.upstream.port,
    run.health.path,
    Math.min(run.health.timeoutMs, 5_000),
  );
  return probe.ok
    ? { healthy: true, sha: proxy.upstream.sha }
    : { healthy: false, sha: proxy.upstream.sha, detail: probe.detail };
}

/** Removes every container of the environment (tracked or only labelled), then the proxy. */
async function stopEnvironment(kit: ContainerKit, env: EnvironmentSpec, workdir: string): Promise<void> {
  const state = await readContainerState(workdir);
  // Nothing was ever deployed here: no engine needed (a server without one can stop the environment).
  const labelled = Object.keys(state.containers).length > 0 || state.seq > 0;
  if (labelled) {
    const { docker } = await kit.engine();
    await Promise.all(
      Object.values(state.containers).map((c) => stopAndRemove(docker, c.id, kit.stopTimeoutS)),
    );
    for (const c of await listContainers(docker, environmentFilter(env, workdir))) {
      await stopAndRemove(docker, c.Id, kit.stopTimeoutS);
    }
  }
  await stopProxy(workdir, { forget: true });
  await writeContainerState(workdir, { ...state, serving: null, standby: [], containers: {} });
}
