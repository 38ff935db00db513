import { Agent } from 'node:http';
import type { Artifact, Build } from '@gantry/contracts';
import type Docker from 'dockerode';
import { connectEngine } from '../packages/server/src/containers/engine.js';
import { freePort } from '../packages/server/src/drivers/process/free-port.js';
import type { AppBoot } from './app-boot.js';
import type { DeployBench } from './deploy-support.js';
import { get } from './http-probe.js';
import { median, type Scope, sleep } from './support.js';

/** The image Gantry built for `sha` (`<registry>/<repository>@<digest>`), as a deployment pulls it. */
export async function imageOf(d: DeployBench, sha: string): Promise<string> {
  const [build] = await d.bench.api<Build[]>('GET', `/api/builds?app=${d.app}&sha=${sha}`);
  if (!build?.artifactId) throw new Error(`no artifact for ${sha.slice(0, 7)}`);
  const artifact = await d.bench.api<Artifact>('GET', `/api/artifacts/${build.artifactId}`);
  if (artifact.kind !== 'image' || !artifact.reference) throw new Error(`${artifact.id} is not an image`);
  return artifact.reference;
}

/**
 * The container's own start, without Gantry: what a cold rollback cannot avoid. The same image the
 * environment runs (already in the engine's store, as it is for a rollback), created and started
 * through the engine API as the container driver does (host network, an init, PORT set), timed from
 * the create call to the first 200 on /healthz (polled every 2 ms on fresh connections), then removed.
 */
export async function measureContainerBoot(scope: Scope, d: DeployBench, boots: number): Promise<AppBoot> {
  const { docker } = await connectEngine();
  const image = await imageOf(d, d.shas[0]!);
  const samples: number[] = [];
  const name = `gantry-bench-boot-${process.pid}`;
  scope.defer(() => remove(docker, name));
  for (let i = 0; i < boots; i++) samples.push(await bootOnce(docker, image, `${name}-${i}`));
  return { boots, samplesMs: samples, medianMs: median(samples) };
}

async function bootOnce(docker: Docker, image: string, name: string): Promise<number> {
  const port = await freePort();
  const agent = new Agent({ keepAlive: false });
  const started = performance.now();
  try {
    const created = await docker.createContainer({
      name,
      Image: image,
      Env: [`PORT=${port}`],
      HostConfig: { Init: true, NetworkMode: 'host', RestartPolicy: { Name: 'no' } },
    });
    await created.start();
    const until = started + 60_000;
    for (;;) {
      const answer = await get(agent, port, '/healthz', 1_000).catch(() => null);
      if (answer?.status === 200) return performance.now() - started;
      if (performance.now() > until) throw new Error(`container ${name} of ${image} did not answer /healthz`);
      await sleep(2);
    }
  } finally {
    agent.destroy();
    await remove(docker, name);
  }
}

async function remove(docker: Docker, name: string): Promise<void> {
  await docker
    .getContainer(name)
    .remove({ force: true })
    .catch(() => undefined);
}
