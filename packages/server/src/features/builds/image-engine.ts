/**
 * The engine part of an image build, shared by the servers' ImageBuilder (image-build.ts) and
 * `gantry agent` (features/agents/agent-image.ts): the build context from the worktree, the
 * engine's build of `<name>:<tag>` with Gantry's labels, and the push. What registry it is, whose
 * credentials (the server's, or none: the engine's own login on an agent's machine) and where the
 * digest comes from afterwards are the caller's.
 */
import { realpath, stat } from 'node:fs/promises';
import type { GantryImage } from '@gantry/contracts';
import { type Engine, followProgress } from '../../containers/engine.js';
import { BuildFailure } from './build-failure.js';
import { insideWorktree, OutsideWorktree, STEP_HOME } from './build-sandbox.js';
import { type ContextSource, contextTar, readDockerignore } from './image-context.js';

export interface EngineImageBuild {
  /** `<registry>/<repository>`: the image is built as `<name>:<tag>` and pushed. */
  name: string;
  /** The build's SHA. */
  tag: string;
  /** `host[:port]` of the registry, the push's `serveraddress`. */
  registry: string;
  /** How errors name the registry, e.g. `the server's registry 127.0.0.1:5000 (GANTRY_REGISTRY)`. */
  registryLabel: string;
  image: GantryImage;
  /** The worktree after the steps ran. */
  workdir: string;
  /** `build.artifact.path` (a base image gets this folder). */
  artifactPath: string;
  /** `run.command`: a base image's entrypoint. */
  command: string;
  /** The `org.opencontainers.image.revision` label. */
  revision: string;
  /** The `org.opencontainers.image.source` label (no credentials in it; see withoutCredentials). */
  source: string;
  /** `build.network`: false builds with network none. */
  network: boolean;
  /**
   * Credentials for the registry (the server's). Without them the engine pushes with its own login
   * (`podman login` on that machine), as on agents, which never get the server's.
   */
  auth?: { username: string; password: string };
  /**
   * The registry speaks plain HTTP (marked insecure): the push says so to the engine (podman's
   * `tlsVerify=false`), so it need not also be listed in registries.conf. Docker ignores the
   * parameter and goes by its daemon's `insecure-registries`.
   */
  insecure?: boolean;
  signal: AbortSignal;
}

/** Builds the image with `engine` and pushes `<name>:<tag>`; each line of the engine's output goes to `log`. */
export async function buildAndPushImage(
  engine: Engine,
  b: EngineImageBuild,
  log: (line: string) => void,
): Promise<void> {
  const tag = `${b.name}:${b.tag}`;
  log(`gantry: building with ${engine.description}`);
  const context = await imageContext(b);
  log(`gantry: build context ${context.files} entries, ${context.bytes} bytes`);
  const started = Date.now();
  const stream = await engine.docker.buildImage(context.stream, {
    t: tag,
    dockerfile: context.dockerfile,
    labels: {
      'org.opencontainers.image.revision': b.revision,
      'org.opencontainers.image.source': b.source,
    },
    rm: true,
    forcerm: true,
    ...(!b.network && { networkmode: 'none' }),
    ...(b.auth && { registryconfig: { [b.registry]: b.auth } }),
    abortSignal: b.signal,
  } as Parameters<Engine['docker']['buildImage']>[1]);
  await followProgress(engine.docker, stream, log).catch((e: unknown) => {
    throw new BuildFailure(`the image build failed: ${(e as Error).message}`);
  });
  log(`gantry: built ${tag} in ${Date.now() - started} ms; pushing`);
  const pushStarted = Date.now();
  const push = await engine.docker.getImage(b.name).push({
    tag: b.tag,
    authconfig: b.auth ? { ...b.auth, serveraddress: b.registry } : { serveraddress: b.registry },
    ...(b.insecure && { tlsVerify: false }),
    abortSignal: b.signal,
  } as Parameters<ReturnType<Engine['docker']['getImage']>['push']>[0]);
  await followProgress(engine.docker, push, log).catch((e: unknown) => {
    throw new BuildFailure(`pushing ${tag} to ${b.registryLabel} failed: ${(e as Error).message}`);
  });
  log(`gantry: pushed ${tag} in ${Date.now() - pushStarted} ms`);
}

/** The tar the engine builds from: the worktree and its Dockerfile, or a base image plus the artifact folder. */
async function imageContext(b: EngineImageBuild) {
  const root = await realpath(b.workdir);
  const skip = ['.git', STEP_HOME];
  const image = b.image;
  if (image.base) {
    const path = b.artifactPath;
    const dir = await insideWorktree(root, path, 'artifact path').catch((e: unknown) => {
      throw new BuildFailure(e instanceof OutsideWorktree ? e.message : String(e));
    });
    if (
      !(await stat(dir).then(
        (st) => st.isDirectory(),
        () => false,
      ))
    ) {
      throw new BuildFailure(
        `artifact path "${path}" is not a folder after the build; check build.artifact.path in gantry.yaml`,
      );
    }
    const source: ContextSource = {
      root: dir,
      into: 'app',
      skip: dir === root ? skip : [],
      linksInside: true,
    };
    const dockerfile = baseDockerfile(image.base, b.command);
    const tar = await contextTar([source], [{ name: '.gantry.Dockerfile', body: dockerfile }]).catch(
      (e: unknown) => {
        throw new BuildFailure((e as Error).message);
      },
    );
    return { ...tar, dockerfile: '.gantry.Dockerfile' };
  }
  const dockerfile = image.dockerfile ?? 'Dockerfile';
  const file = await insideWorktree(root, dockerfile, 'build.image.dockerfile').catch((e: unknown) => {
    throw new BuildFailure((e as Error).message);
  });
  const exists = await realpath(file).then(
    () => true,
    () => false,
  );
  if (!exists) {
    throw new BuildFailure(
      `build.image: there is no ${dockerfile} in the worktree after the steps ran; add one, name it with build.image.dockerfile, or copy the artifact folder into a base image with build.image.base`,
    );
  }
  const ignore = [...(await readDockerignore(root)), `!${dockerfile}`, '!.dockerignore'];
  const tar = await contextTar([{ root, into: '', skip, ignore }]).catch((e: unknown) => {
    throw new BuildFailure(`cannot read the build context: ${(e as Error).message}`);
  });
  return { ...tar, dockerfile };
}

/** A repository URL fit for a label anyone who pulls the image reads: no `user:token@`. */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

/** The Dockerfile of a base image: the artifact folder in /app, run.command as the entrypoint. */
export function baseDockerfile(base: string, command: string): string {
  return [
    `FROM ${base}`,
    'WORKDIR /app',
    'COPY app/ /app/',
    `ENTRYPOINT ${JSON.stringify(['/bin/sh', '-c', command])}`,
    '',
  ].join('\n');
}
