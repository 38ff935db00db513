import type { EnvironmentSpec } from '@gantry/driver-api';
import type Docker from 'dockerode';
import type { Engine } from '../../containers/engine.js';
import type { ContainerSupervisor } from './container-supervisor.js';

/**
 * How a container is reached from the environment's proxy.
 *
 * - `host` (the default): the container shares the host's network and the app listens on a free
 *   port Gantry picks and passes in `run.port_env`, exactly as with the process driver. Chosen for
 *   this machine (podman 4.3 rootful in a VM) because it needs nothing from the VM's netfilter or
 *   from slirp4netns (rootless), works the same on podman and Docker Engine on Linux, and an app
 *   that binds 127.0.0.1:$PORT (like the demo's) runs unchanged.
 * - `bridge`: the engine's default network; the app listens on `containerPort` (in `run.port_env`)
 *   on all interfaces, published on 127.0.0.1:<free port>. Needed where host networking is not
 *   the host's (Docker Desktop); the app must not bind only 127.0.0.1.
 */
export type ContainerNetwork = 'host' | 'bridge';

/**
 * The engine as the driver uses it. `connectEngine`'s client drops a connection after 10 s without
 * data, shorter than a graceful stop (`stopTimeoutS`) or a quiet app's log; so `docker` allows
 * two minutes, and `streams` (log follows, which end when the deployment does) has no limit.
 */
export interface DriverEngine extends Engine {
  streams: Docker;
}

/** What the parts of the container driver share: settled options, the engine and the one supervisor. */
export interface ContainerKit {
  /** Connected at first use, so a server without an engine starts; throws EngineUnavailable. */
  engine(): Promise<DriverEngine>;
  nodePath: string;
  /** Where the environments' proxies listen (a deploy agent's `--listen`); 127.0.0.1 on a server. */
  listenHost: string;
  network: ContainerNetwork;
  containerPort: number;
  drainTimeoutMs: number;
  /** Seconds between SIGTERM and SIGKILL when a container is stopped. */
  stopTimeoutS: number;
  supervisor: ContainerSupervisor;
}

export type ContainerRun = Omit<NonNullable<EnvironmentSpec['run']>, 'command'>;

export function requireContainerRun(env: EnvironmentSpec): ContainerRun {
  const run = env.run;
  if (!run?.portEnv || !run.health?.path) {
    throw new Error(
      `environment ${env.name} uses the container driver but gantry.yaml has no run.port_env and run.health; add run: { port_env, health } (the image's own command runs)`,
    );
  }
  return run;
}

/** A deployment stopped by its signal; what served before still serves. */
export class DeploymentCancelled extends Error {}
