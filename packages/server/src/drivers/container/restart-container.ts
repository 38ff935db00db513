import type { DriverContext, DriverLogger, EnvironmentSpec, ImageArtifact } from '@gantry/driver-api';
import { setProxyUpstream } from '../process/proxy-control.js';
import type { ContainerKit } from './container-kit.js';
import { pullImage, statusOf } from './container-ops.js';
import { readContainerState, updateContainerState } from './container-state.js';
import { startContainer } from './start-container.js';

export interface RestartContext {
  env: EnvironmentSpec;
  logger: DriverLogger;
  report: DriverContext['report'];
}

/**
 * The supervisor's restart of a serving or standby container that exited: the same container
 * started again (same port, so the proxy needs no change). One that is gone (removed by hand) is
 * created again from the same image, healthy before it takes over; the proxy follows when it serves.
 * Resolves the name to watch from now on, or null when the container is no longer wanted.
 */
export async function restartContainer(
  kit: ContainerKit,
  workdir: string,
  name: string,
  context: RestartContext | undefined,
): Promise<string | null> {
  const state = await readContainerState(workdir);
  const rec = state.containers[name];
  if (!rec || (state.serving !== name && !state.standby.includes(name))) return null;
  const { docker } = await kit.engine();
  try {
    await docker.getContainer(rec.id).start();
    return name;
  } catch (err) {
    // 304: it runs already (someone started it); 404: it is gone; anything else is a failed restart.
    if (statusOf(err) === 304) return name;
    if (statusOf(err) !== 404 || !context) throw err;
  }
  const image: ImageArtifact = { kind: 'image', reference: rec.reference, digest: rec.digest };
  const ctx: DriverContext = {
    workdir,
    logger: context.logger,
    report: context.report,
    signal: new AbortController().signal,
    phase: () => undefined,
  };
  context.logger.warn(
    `container ${name} of ${rec.sha.slice(0, 7)} is gone; creating it again from ${rec.reference}`,
  );
  const present = await docker
    .getImage(rec.reference)
    .inspect()
    .catch(() => null);
  if (!present) await pullImage(docker, image, ctx.signal, () => undefined);
  const release = { env: context.env, sha: rec.sha, deploymentId: rec.deploymentId, artifact: image };
  const started = await startContainer(kit, docker, release, image, ctx);
  await started.stopLogs();
  const next = started.record.name;
  const after = await updateContainerState(workdir, (s) => {
    delete s.containers[name];
    if (s.serving === name) s.serving = next;
    s.standby = s.standby.map((n) => (n === name ? next : n));
  });
  if (after.serving === next) await setProxyUpstream(workdir, { port: started.record.port, sha: rec.sha });
  return next;
}
