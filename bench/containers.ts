import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { connectEngine } from '../packages/server/src/containers/engine.js';
import { measureContainerBoot } from './container-boot.js';
import type { DeployBenchOptions } from './deploy-support.js';
import { benchImageBuild, type ImageBuildVsHand } from './image-build.js';
import { benchRollbackTime, type RollbackTime } from './rollback-time.js';
import { benchSwitchLoad, type SwitchLoad } from './switch-load.js';

export interface ContainersBench {
  /** Why nothing was measured: no engine or registry here (the set-up failed or is missing). */
  skipped?: string;
  /** What answered on DOCKER_HOST, e.g. `podman 4.3.1 (Docker API 1.41) at unix://…`. */
  engine?: string;
  base?: string;
  registry?: string;
  /** Warm and cold rollbacks with `driver: container`; `boot` is the container's own start. */
  rollback?: RollbackTime;
  switchLoad?: SwitchLoad;
  imageBuild?: ImageBuildVsHand;
}

export interface ContainersOptions {
  rollbacks?: number;
  coldRollbacks?: number;
  boots?: number;
  switches?: number;
  leanSwitches?: number;
  builds?: number;
}

const SETUP = fileURLToPath(new URL('../scripts/containers/setup.sh', import.meta.url));
/** What the set-up exports that the engine client and the podman CLI read. */
const EXPORTS = /^export ([A-Z_][A-Z0-9_]*)='([^']*)'$/;

/**
 * The container driver measured as the process driver is in `rollback` and `switch-load` (same
 * app, same method), plus Gantry's image build against podman by hand. Fills `out` as it goes, so
 * a failure keeps what was measured before it. Without an engine and a registry it records why and
 * returns.
 */
export async function benchContainers(out: ContainersBench, opts: ContainersOptions = {}): Promise<void> {
  const env = await containerEnv();
  if (typeof env === 'string') {
    out.skipped = env;
    return;
  }
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  // The server's engine client and the podman CLI read these from the process environment.
  Object.assign(process.env, env);
  try {
    const engine = await connectEngine().catch((err: unknown) => (err as Error).message);
    if (typeof engine === 'string') {
      out.skipped = engine;
      return;
    }
    out.engine = engine.description;
    const base = env.GANTRY_TEST_BASE_NODE;
    const registry = env.GANTRY_TEST_REGISTRY;
    if (!base || !registry) {
      out.skipped = 'the container set-up exported no GANTRY_TEST_BASE_NODE or GANTRY_TEST_REGISTRY';
      return;
    }
    out.base = base;
    const prefix = `gantry-bench-${process.pid}-${Date.now().toString(36)}`;
    out.registry = `${registry}/${prefix}`;
    const deploy: DeployBenchOptions = {
      image: { base },
      serverEnv: { GANTRY_REGISTRY: out.registry, GANTRY_REGISTRY_INSECURE: '1' },
    };
    try {
      out.rollback = await benchRollbackTime(opts.rollbacks ?? 20, opts.coldRollbacks ?? 10, {
        deploy,
        boot: (scope, d) => measureContainerBoot(scope, d, opts.boots ?? 10),
      });
      out.switchLoad = await benchSwitchLoad(opts.switches ?? 20, opts.leanSwitches ?? 10, { deploy });
      out.imageBuild = await benchImageBuild(deploy, opts.builds ?? 5);
    } finally {
      await removeImages(engine.docker, `${out.registry}/`);
    }
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The set-up's variables, or why there are none (the script is missing or fails). */
export async function containerEnv(setup = SETUP): Promise<Record<string, string> | string> {
  try {
    const { stdout } = await promisify(execFile)(setup, ['--env'], { timeout: 300_000 });
    const env: Record<string, string> = {};
    for (const line of stdout.split('\n')) {
      const m = EXPORTS.exec(line.trim());
      if (m) env[m[1]!] = m[2]!;
    }
    return env.DOCKER_HOST ? env : `scripts/containers/setup.sh --env exported no DOCKER_HOST`;
  } catch (err) {
    const e = err as { code?: string | number; stderr?: string; message: string };
    if (e.code === 'ENOENT') return 'scripts/containers/setup.sh is missing';
    const last = e.stderr?.trim().split('\n').at(-1);
    return `scripts/containers/setup.sh failed: ${last || e.message.split('\n')[0]}`;
  }
}

/** Gantry's images of this run (built, and pulled by digest to run) leave the engine's store. */
async function removeImages(docker: Awaited<ReturnType<typeof connectEngine>>['docker'], prefix: string) {
  const images = await docker.listImages().catch(() => []);
  for (const image of images) {
    const names = [...(image.RepoTags ?? []), ...(image.RepoDigests ?? [])];
    if (!names.some((n) => n.startsWith(prefix))) continue;
    await docker
      .getImage(image.Id)
      .remove({ force: true })
      .catch(() => undefined);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out: ContainersBench = {};
  await benchContainers(out, { rollbacks: Number(process.argv[2] ?? 20) });
  console.log(JSON.stringify(out));
}
