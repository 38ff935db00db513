import { connectEngine, EngineUnavailable, parseRegistryAddress, RegistryClient } from '@gantry/server';
import { CliError } from '../context.js';

/** What `gantry demo --containers` runs on, checked before anything starts. */
export interface DemoContainers {
  /** The image the sample app's folder is copied into (it needs `node` and `sh`). */
  base: string;
  /** `host[:port][/prefix]` the demo's images are pushed to. */
  registry: string;
  insecure: boolean;
  /** Which engine answered, for the demo's first lines. */
  engine: string;
  /** The server's registry settings (GANTRY_REGISTRY…), as `loadServerConfig` reads them. */
  serverEnv: Record<string, string>;
}

export interface DemoContainerOptions {
  baseImage?: string;
  registry?: string;
}

const SET_UP =
  'on this project\'s machines `eval "$(scripts/containers/setup.sh --env)"` starts podman\'s API service and a registry at 127.0.0.1:5000 (see docs/containers.md)';

/** A registry on the loopback interface is plain HTTP unless it says otherwise, as Docker treats it. */
function isLoopback(host: string): boolean {
  const name = host.replace(/^[a-z]+:\/\//, '').replace(/:\d+$/, '');
  return name === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(name) || name === '[::1]';
}

/**
 * Finds the engine, the registry and the base image the containers demo needs, or says which one
 * is missing and how to get it — before a server, a repository or a container exists.
 */
export async function prepareDemoContainers(
  opts: DemoContainerOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DemoContainers> {
  const engine = await connectEngine(env).catch((err: unknown) => {
    if (err instanceof EngineUnavailable) throw new CliError(`gantry demo --containers: ${err.message}`);
    throw err;
  });
  const registry = opts.registry ?? env.GANTRY_REGISTRY ?? env.GANTRY_DEMO_REGISTRY;
  if (!registry) {
    throw new CliError(
      `gantry demo --containers needs a registry to push the sample app's images to: pass --registry host[:port][/prefix] or set GANTRY_REGISTRY (GANTRY_REGISTRY_INSECURE=1 for plain HTTP); ${SET_UP}`,
    );
  }
  let address: { host: string; prefix: string };
  try {
    address = parseRegistryAddress(registry);
  } catch (e) {
    throw new CliError(`--registry: ${(e as Error).message}`);
  }
  const insecure = env.GANTRY_REGISTRY_INSECURE === '1' || isLoopback(address.host);
  await new RegistryClient({ host: address.host, insecure }).ping().catch((err: unknown) => {
    throw new CliError(`gantry demo --containers: ${(err as Error).message}; ${SET_UP}`);
  });
  const base = opts.baseImage ?? env.GANTRY_DEMO_BASE_IMAGE ?? 'node:20-slim';
  await ensureImage(engine.docker, base);
  const serverEnv: Record<string, string> = {
    GANTRY_REGISTRY: address.prefix ? registry : `${registry.replace(/\/+$/, '')}/gantry-demo`,
    ...(insecure && { GANTRY_REGISTRY_INSECURE: '1' }),
  };
  for (const key of [
    'GANTRY_REGISTRY_USERNAME',
    'GANTRY_REGISTRY_PASSWORD',
    'GANTRY_REGISTRY_PASSWORD_FILE',
  ]) {
    if (env[key]) serverEnv[key] = env[key];
  }
  return { base, registry: serverEnv.GANTRY_REGISTRY!, insecure, engine: engine.description, serverEnv };
}

/** The base image is there, or pulled now; otherwise a clear reason and what to pass instead. */
async function ensureImage(docker: Awaited<ReturnType<typeof connectEngine>>['docker'], ref: string) {
  const present = await docker
    .getImage(ref)
    .inspect()
    .then(
      () => true,
      () => false,
    );
  if (present) return;
  try {
    const stream = await docker.pull(ref);
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => {
        const failed = err?.message ?? out?.find((m) => m.error)?.error;
        if (failed) reject(new Error(failed));
        else resolve();
      }),
    );
  } catch (err) {
    throw new CliError(
      `gantry demo --containers: the base image ${ref} is not in the engine and could not be pulled (${(err as Error).message}); pass --base-image with an image that has node and sh (or set GANTRY_DEMO_BASE_IMAGE); ${SET_UP} and exports GANTRY_DEMO_BASE_IMAGE`,
    );
  }
}
