import { hostname } from 'node:os';
import { connectEngine, type Engine, EngineUnavailable } from '../../containers/engine.js';
import { loginFiles, machineLogin } from '../../containers/registry-login.js';
import { buildAndPushImage } from '../builds/image-engine.js';
import type { AgentJob } from './agent-service.js';

/**
 * `build.image` on an agent: after the sandboxed steps, the agent process (never a step) builds
 * the image with its own machine's engine (DOCKER_HOST there) and pushes it with that engine's own
 * registry login — the server sends the image's name, never credentials — then the server reads
 * the digest from the registry. Throws an Error saying what is missing on this machine.
 */
export async function buildImageHere(
  job: AgentJob,
  workdir: string,
  log: (line: string) => void,
  signal: AbortSignal,
  connect: () => Promise<Engine> = () => connectEngine(),
): Promise<void> {
  const image = job.image!;
  await reachable(image.registry, image.registryUrl, signal);
  log(
    `gantry: registry ${image.registry} answers from this agent machine (${hostname()}); the image goes to ${image.name}:${image.tag}`,
  );
  // This machine's own login (podman login / docker login here), sent to the engine with the push:
  // the Docker daemon keeps none itself. The server never sends its credentials to an agent.
  const login = await machineLogin(image.registry);
  log(
    login
      ? `gantry: pushing with this machine's login for ${image.registry} (user ${login.username}, from ${login.from})`
      : `gantry: no login for ${image.registry} on this machine (looked in ${loginFiles().join(', ')}); pushing with the engine's own, if it has one`,
  );
  const engine = await connect().catch((e: unknown) => {
    if (!(e instanceof EngineUnavailable)) throw e;
    throw new Error(
      `the agent machine ${hostname()} has no container engine to build build.image with: ${e.message}; set DOCKER_HOST in the environment of gantry agent there`,
    );
  });
  await buildAndPushImage(
    engine,
    {
      name: image.name,
      tag: image.tag,
      registry: image.registry,
      registryLabel: `registry ${image.registry} (from the agent machine ${hostname()}, ${login ? `as ${login.username}` : "with its engine's own login"})`,
      image: {
        ...(image.base && { base: image.base }),
        ...(image.dockerfile && { dockerfile: image.dockerfile }),
      },
      workdir,
      artifactPath: job.artifactPath,
      command: image.command,
      revision: job.build.sha,
      source: image.source,
      network: job.network,
      ...(login && { auth: { username: login.username, password: login.password } }),
      insecure: image.registryUrl.startsWith('http://'),
      signal,
    },
    log,
  );
}

/** Any answer of the registry's API root will do (a 401 too: the engine logs in); no answer fails the build. */
async function reachable(registry: string, url: string, signal: AbortSignal): Promise<void> {
  try {
    const res = await fetch(`${url}/v2/`, { signal: AbortSignal.any([signal, AbortSignal.timeout(15_000)]) });
    await res.arrayBuffer().catch(() => undefined);
  } catch (e) {
    if (signal.aborted) throw signal.reason ?? e;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e as Error).message;
    throw new Error(
      `registry ${registry} is unreachable from the agent machine ${hostname()} at ${url}/v2/ (${why}); the agent's engine pushes the image there itself, so this machine must reach it`,
    );
  }
}
