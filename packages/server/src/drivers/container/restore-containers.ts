import { mkdir } from 'node:fs/promises';
import type { DeployResult, DriverContext, EnvironmentSpec, Release } from '@gantry/driver-api';
import type Docker from 'dockerode';
import { assertSafeSha, envUrl } from '../process/driver-kit.js';
import { probeHealth, waitHealthy } from '../process/health-check.js';
import { shortSha, standbyCount } from '../process/plan-process-deploy.js';
import { openProxy, readProxyState, setProxyUpstream } from '../process/proxy-control.js';
import { type ContainerKit, type ContainerRun, requireContainerRun } from './container-kit.js';
import { environmentFilter, LABEL } from './container-labels.js';
import { imageOf, listContainers, pullImage, reasonOf, statusOf } from './container-ops.js';
import {
  type ContainerRecord,
  type readContainerState,
  sameDigest,
  updateContainerState,
} from './container-state.js';
import { stopUnwanted } from './retire-containers.js';
import { exitWatcher, startContainer } from './start-container.js';

/**
 * After Gantry (re)starts: finds the environment's containers by their labels, adopts the proxy and
 * a running, healthy container of `serving` (the one the proxy forwards to first), or starts one
 * again; keeps the wanted standbys that still run and removes every other container of the
 * environment. Afterwards exactly one container serves and the proxy forwards to it.
 */
export async function restoreContainers(
  kit: ContainerKit,
  env: EnvironmentSpec,
  serving: Release,
  ctx: DriverContext,
): Promise<DeployResult> {
  const { workdir } = ctx;
  const { sha } = serving;
  assertSafeSha(sha);
  const run = requireContainerRun(env);
  const image = imageOf(serving);
  const { docker } = await kit.engine();
  await mkdir(workdir, { recursive: true });
  const proxy = await openProxy(workdir, env, kit.nodePath, kit.listenHost);
  const before = await adoptLabelled(docker, env, workdir);
  ctx.phase('health');
  const upstream = (await proxy.ready).upstream;
  const running = new Set(before.running);
  const order = (rec: ContainerRecord) =>
    rec.port === upstream?.port && rec.sha === upstream.sha
      ? 0
      : rec.name === before.state.serving
        ? 1
        : before.state.standby.includes(rec.name)
          ? 2
          : 3;
  const candidates = Object.values(before.state.containers)
    .filter((rec) => rec.sha === sha && sameDigest(rec.digest, image.digest) && running.has(rec.name))
    .sort((a, b) => order(a) - order(b) || b.createdAt.localeCompare(a.createdAt));
  let chosen: ContainerRecord | undefined;
  for (const rec of candidates) {
    if ((await probeHealth(rec.port, run.health.path, 2_000)).ok) {
      chosen = rec;
      break;
    }
  }
  const adopted = !!chosen;
  // After a reboot its container is there but stopped: starting it again needs no pull.
  const stopped = Object.values(before.state.containers)
    .filter((rec) => rec.sha === sha && sameDigest(rec.digest, image.digest) && !running.has(rec.name))
    .sort((a, b) => order(a) - order(b) || b.createdAt.localeCompare(a.createdAt));
  for (const rec of chosen ? [] : stopped.slice(0, 1)) {
    ctx.phase('start');
    if (await startAgain(docker, run, rec, ctx)) {
      chosen = rec;
      running.add(rec.name);
    }
  }
  if (!chosen) {
    ctx.phase('unpack');
    await pullImage(docker, image, ctx.signal, (line) => ctx.logger.info(`pull: ${line}`));
    ctx.phase('start');
    const started = await startContainer(kit, docker, serving, image, ctx);
    await started.stopLogs();
    chosen = started.record;
  }
  ctx.phase('switch');
  // Always, even when it looked right: a switch a killed Gantry sent just before it died may still
  // land in the proxy after we read its state; this one arrives after it.
  await setProxyUpstream(workdir, { port: chosen.port, sha }, ctx.fence);
  kit.supervisor.watch({ workdir, name: chosen.name, sha });
  // As after a switch: what served before (a deployment Gantry did not see finish) stays warm.
  const servingName = chosen.name;
  const warm = [...new Set([before.state.serving, ...before.state.standby])].filter(
    (n): n is string => !!n && n !== servingName && !!before.state.containers[n],
  );
  const standby: string[] = [];
  for (const name of warm) {
    if (standby.length >= standbyCount(env)) break;
    const rec = before.state.containers[name]!;
    if (running.has(name) || (await startAgain(docker, run, rec, ctx))) standby.push(name);
  }
  await updateContainerState(workdir, (s) => {
    s.serving = servingName;
    s.standby = standby;
  });
  for (const name of standby) {
    const rec = before.state.containers[name];
    if (rec) kit.supervisor.watch({ workdir, name, sha: rec.sha });
  }
  ctx.phase('drain');
  await stopUnwanted(kit, docker, env, new Set([servingName, ...standby]), ctx);
  ctx.phase('cleanup');
  const final = await readProxyState(workdir);
  if (final?.upstream?.port !== chosen.port || final.upstream.sha !== sha) {
    await setProxyUpstream(workdir, { port: chosen.port, sha }, ctx.fence);
  }
  ctx.logger.info(
    `${adopted ? 'adopted' : 'started'} container ${servingName} of ${shortSha(sha)}; warm standby: ${standby.join(', ') || 'none'}`,
  );
  return { url: envUrl(env, kit.listenHost), kind: adopted ? 'noop' : 'start' };
}

/**
 * Every container of the environment the engine knows, recorded in the state file (one created
 * just before a Gantry was killed is known by its labels only); records of containers that are
 * gone are dropped.
 */
async function adoptLabelled(
  docker: Docker,
  env: EnvironmentSpec,
  workdir: string,
): Promise<{ state: Awaited<ReturnType<typeof readContainerState>>; running: string[] }> {
  const live = await listContainers(docker, environmentFilter(env, workdir));
  const running: string[] = [];
  const state = await updateContainerState(workdir, (s) => {
    const ids = new Set(live.map((c) => c.Id));
    for (const [name, rec] of Object.entries(s.containers)) if (!ids.has(rec.id)) delete s.containers[name];
    for (const c of live) {
      const name = c.Names?.[0]?.replace(/^\//, '') ?? c.Id;
      if (c.State === 'running') running.push(name);
      const n = Number(/-(\d+)$/.exec(name)?.[1]);
      if (Number.isInteger(n) && n > s.seq) s.seq = n;
      if (s.containers[name]?.id === c.Id) continue;
      const labels = c.Labels ?? {};
      s.containers[name] = {
        name,
        id: c.Id,
        sha: labels[LABEL.sha] ?? '',
        digest: labels[LABEL.digest] ?? '',
        reference: c.Image,
        deploymentId: labels[LABEL.deployment] ?? '',
        port: Number(labels[LABEL.port] ?? 0),
        createdAt: new Date(c.Created * 1000).toISOString(),
      };
    }
  });
  return { state, running };
}

/** Starts a stopped container of the environment again and waits until it answers its health path. */
async function startAgain(
  docker: Docker,
  run: ContainerRun,
  rec: ContainerRecord,
  ctx: DriverContext,
): Promise<boolean> {
  try {
    await docker.getContainer(rec.id).start();
  } catch (err) {
    if (statusOf(err) !== 304) {
      ctx.logger.warn(`container ${rec.name} could not be started again: ${reasonOf(err)}`);
      return false;
    }
  }
  const watcher = exitWatcher(docker, rec.id);
  const outcome = await waitHealthy({
    port: rec.port,
    path: run.health.path,
    timeoutMs: Math.min(run.health.timeoutMs, 30_000),
    signal: ctx.signal,
    hasExited: watcher.exited,
  });
  watcher.stop();
  if (outcome.status === 'healthy') {
    ctx.logger.info(`started container ${rec.name} of ${shortSha(rec.sha)} again`);
    return true;
  }
  ctx.logger.warn(`container ${rec.name} started again but did not get healthy (${outcome.status})`);
  return false;
}
