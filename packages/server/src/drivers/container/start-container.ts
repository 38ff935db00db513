import type { DriverContext, ImageArtifact, Release } from '@gantry/driver-api';
import type Docker from 'dockerode';
import { freePort } from '../process/free-port.js';
import { waitHealthy } from '../process/health-check.js';
import { seconds, shortSha } from '../process/plan-process-deploy.js';
import { type ContainerKit, DeploymentCancelled, requireContainerRun } from './container-kit.js';
import { containerLabels, containerName } from './container-labels.js';
import { followLogs } from './container-logs.js';
import { containerStatus, lastLogLines, reasonOf, statusOf, stopAndRemove } from './container-ops.js';
import { type ContainerRecord, updateContainerState } from './container-state.js';

export interface StartedContainer {
  record: ContainerRecord;
  /** Stops streaming the container's output into the deployment's log. */
  stopLogs(): Promise<void>;
}

/**
 * Creates and starts a container of the release on a free port and waits until it answers its
 * health path. It is in the state file from the moment it exists (and labelled, for a Gantry killed
 * even before that). One that does not get healthy is removed, and the error carries its exit code
 * and last log lines; nothing else changes.
 */
export async function startContainer(
  kit: ContainerKit,
  docker: Docker,
  target: Release,
  image: ImageArtifact,
  ctx: DriverContext,
): Promise<StartedContainer> {
  const { env, sha } = target;
  const { workdir } = ctx;
  const run = requireContainerRun(env);
  const short = shortSha(sha);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const inside = kit.network === 'host' ? port : kit.containerPort;
    const { seq } = await updateContainerState(workdir, (s) => {
      s.seq++;
    });
    const name = containerName(env, sha, seq);
    const vars = {
      ...env.config,
      ...env.secrets,
      [run.portEnv]: String(inside),
      GANTRY_SHA: sha,
      GANTRY_ENV: env.name,
      GANTRY_APP: env.app,
    };
    const limits = run.limits ?? {};
    let id: string;
    try {
      const created = await docker.createContainer({
        name,
        Image: image.reference,
        Env: Object.entries(vars).map(([k, v]) => `${k}=${v}`),
        Labels: containerLabels(target, image.digest, workdir, port),
        ...(kit.network === 'bridge' && { ExposedPorts: { [`${inside}/tcp`]: {} } }),
        HostConfig: {
          // An init as PID 1 forwards SIGTERM and reaps zombies, so a stop is quick and clean.
          Init: true,
          NetworkMode: kit.network,
          ...(kit.network === 'bridge' && {
            PortBindings: { [`${inside}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
          }),
          ...(limits.memoryBytes && { Memory: limits.memoryBytes, MemorySwap: limits.memoryBytes }),
          ...(limits.cpus && { NanoCpus: Math.round(limits.cpus * 1e9) }),
          RestartPolicy: { Name: 'no' },
        },
      });
      id = created.id;
    } catch (err) {
      if (statusOf(err) === 409 && attempt < 5) continue; // a leftover holds that name; take the next
      throw new Error(`cannot create a container of ${image.reference}: ${reasonOf(err)}`);
    }
    const record: ContainerRecord = {
      name,
      id,
      sha,
      digest: image.digest,
      reference: image.reference,
      deploymentId: target.deploymentId,
      port,
      createdAt: new Date().toISOString(),
    };
    await updateContainerState(workdir, (s) => {
      s.containers[name] = record;
    });
    // Followed once it runs: podman ends a follow of a container that has not started at once.
    let stopLogs: () => Promise<void> = async () => undefined;
    const discard = async () => {
      await stopLogs();
      await stopAndRemove(docker, id, 0);
      await updateContainerState(workdir, (s) => {
        if (s.containers[name]?.id === id) delete s.containers[name];
      });
    };
    try {
      await docker.getContainer(id).start();
    } catch (err) {
      const reason = reasonOf(err);
      await discard();
      // Another process may take the free port between our check and the bind; try once more.
      if (attempt === 1 && /address already in use/i.test(reason)) continue;
      throw new Error(`container ${name} of ${short} could not start: ${reason}`);
    }
    stopLogs = followLogs((await kit.engine()).streams, id, name, ctx.logger);
    ctx.logger.info(`started container ${name} (${id.slice(0, 12)}) of ${short} on 127.0.0.1:${port}`);
    ctx.phase('health');
    const watcher = exitWatcher(docker, id);
    const outcome = await waitHealthy({
      port,
      path: run.health.path,
      timeoutMs: run.health.timeoutMs,
      signal: ctx.signal,
      hasExited: watcher.exited,
    });
    watcher.stop();
    if (outcome.status === 'healthy') return { record, stopLogs };
    const status = await containerStatus(docker, id).catch(() => null);
    const tail = await lastLogLines(docker, id);
    await discard();
    if (outcome.status === 'exited' && attempt === 1 && tail.includes('EADDRINUSE')) continue;
    if (outcome.status === 'aborted') {
      throw new DeploymentCancelled(
        `the deployment of ${short} was cancelled; container ${name} was removed`,
      );
    }
    const code = status?.exitCode ?? 'unknown';
    const extra = status?.detail ? ` (${status.detail})` : '';
    if (outcome.status === 'exited') {
      throw new Error(
        `container ${name} of ${short} exited with code ${code}${extra} before answering ${run.health.path} with 2xx; last log lines:\n${tail}`,
      );
    }
    throw new Error(
      `container ${name} of ${short} did not answer ${run.health.path} with 2xx within ${seconds(run.health.timeoutMs)}; last log lines:\n${tail}\nlast health check: ${outcome.detail}`,
    );
  }
}

/** Asks the engine every 200 ms whether the container still runs; `exited()` is what it last said. */
export function exitWatcher(docker: Docker, id: string): { exited(): boolean; stop(): void } {
  let exited = false;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    containerStatus(docker, id)
      .then((s) => {
        if (!s?.running) exited = true;
      })
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  }, 200);
  return { exited: () => exited, stop: () => clearInterval(timer) };
}
