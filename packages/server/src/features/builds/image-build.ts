import { createWriteStream, type WriteStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { Build, GantryImage, GantryYaml } from '@gantry/contracts';
import type { Logger } from 'pino';
import { connectEngine, type Engine, followProgress } from '../../containers/engine.js';
import type { EventStore } from '../../events/event-store.js';
import type { AppRecord } from '../apps/app-store.js';
import { type ImageRegistries, NoRegistry, type ResolvedRegistry } from '../artifacts/image-registries.js';
import { BuildFailure } from './build-failure.js';
import { insideWorktree, OutsideWorktree, STEP_HOME } from './build-sandbox.js';
import type { BuildStore } from './build-store.js';
import { type ContextSource, contextTar, readDockerignore } from './image-context.js';

export interface ImageBuildDeps {
  builds: Pick<BuildStore, 'updateStep'>;
  events: Pick<EventStore, 'append'>;
  registries: ImageRegistries;
  logger: Logger;
  /** The engine to build with (tests); connectEngine() otherwise. */
  connect?: () => Promise<Engine>;
}

export interface BuiltImage {
  /** The manifest's digest, as the registry reports it. */
  digest: string;
  /** `<registry>/<repository>@<digest>`. */
  reference: string;
  /** Config and layers as stored in the registry, in bytes. */
  size: number;
}

export interface ImageBuildInput {
  build: Build;
  app: AppRecord;
  config: GantryYaml;
  workdir: string;
  /** The step's index: the image is built and pushed as one more step of the build. */
  idx: number;
  logFile: string;
  signal: AbortSignal;
  /** The app's repository URL, for the `org.opencontainers.image.source` label. */
  source: string;
}

/** The step the image build shows as, after the build's own steps. */
export function imageStep(image: GantryImage): { name: string; run: string } {
  return {
    name: 'image',
    run: image.base
      ? `build an image from ${image.base} with the artifact folder, and push it`
      : `build ${image.dockerfile ?? 'Dockerfile'} and push the image`,
  };
}

/**
 * Builds the app's image through Docker Engine's API, pushes it as `<registry>/<repository>:<sha>`
 * and takes its digest and size from the registry (podman's push stream carries no digest). Runs in
 * the engine's own isolation, after the sandboxed steps: the engine socket and the registry
 * credentials never reach a step. The engine's output is the step's log, written as it comes.
 */
export class ImageBuilder {
  private engine?: Promise<Engine>;

  constructor(private readonly d: ImageBuildDeps) {}

  /**
   * The engine, asked once and then kept while it answers `_ping`: podman answers `/version` in
   * 0.6–0.8 s here, a third of a small image's whole build and push.
   */
  private async connect(): Promise<Engine> {
    const known = await this.engine?.catch(() => undefined);
    if (
      known &&
      (await known.docker.ping().then(
        () => true,
        () => false,
      ))
    )
      return known;
    const connecting = (this.d.connect ?? connectEngine)();
    this.engine = connecting;
    connecting.catch(() => {
      if (this.engine === connecting) this.engine = undefined;
    });
    return connecting;
  }

  async run(input: ImageBuildInput): Promise<BuiltImage> {
    const { build, idx } = input;
    const log = new StepLog(input.logFile);
    await this.d.builds.updateStep(build.id, idx, { status: 'running', startedAt: new Date().toISOString() });
    await this.event(build, 'build.step.started', { idx, name: 'image' });
    try {
      const image = await this.buildAndPush(input, log);
      await this.finishStep(build, idx, 'succeeded', 0, log);
      return image;
    } catch (e) {
      const cancelled = input.signal.aborted;
      const message = e instanceof Error ? e.message : String(e);
      const tail = log.tail();
      if (!cancelled) log.line(`gantry: ${message}`);
      await this.finishStep(build, idx, cancelled ? 'cancelled' : 'failed', cancelled ? null : 1, log);
      if (cancelled) throw input.signal.reason ?? e;
      throw new BuildFailure(`${message}${tail ? `; last lines:\n${tail}` : ''}`, 1);
    }
  }

  private async buildAndPush(input: ImageBuildInput, log: StepLog): Promise<BuiltImage> {
    const { build, app, config, signal } = input;
    const image = config.build.image!;
    const registry = await this.d.registries.forApp(app).catch((e: unknown) => {
      throw new BuildFailure(e instanceof NoRegistry ? e.message : `registry: ${(e as Error).message}`);
    });
    const repository = registry.repository(app.name, image.repository);
    const name = `${registry.name}/${repository}`;
    const tag = `${name}:${build.sha}`;
    // A registry that is down or refuses the credentials fails the build before the engine works.
    await registry.client().ping();
    log.line(`gantry: registry ${registry.label} answers; the image goes to ${tag}`);
    const engine = await this.connect();
    log.line(`gantry: building with ${engine.description}`);
    const context = await this.context(input, image);
    log.line(`gantry: build context ${context.files} entries, ${context.bytes} bytes`);
    const started = Date.now();
    const stream = await engine.docker.buildImage(context.stream, {
      t: tag,
      dockerfile: context.dockerfile,
      labels: {
        'org.opencontainers.image.revision': build.sha,
        'org.opencontainers.image.source': withoutCredentials(input.source),
      },
      rm: true,
      forcerm: true,
      ...(config.build.network === false && { networkmode: 'none' }),
      ...(registry.config.auth && {
        registryconfig: { [registry.name]: registry.config.auth },
      }),
      abortSignal: signal,
    } as Parameters<Engine['docker']['buildImage']>[1]);
    await followProgress(engine.docker, stream, (line) => log.line(line)).catch((e: unknown) => {
      throw new BuildFailure(`the image build failed: ${(e as Error).message}`);
    });
    log.line(`gantry: built ${tag} in ${Date.now() - started} ms; pushing`);
    const pushStarted = Date.now();
    const push = await engine.docker.getImage(name).push({
      tag: build.sha,
      authconfig: registry.config.auth
        ? { ...registry.config.auth, serveraddress: registry.name }
        : { serveraddress: registry.name },
      abortSignal: signal,
    } as Parameters<ReturnType<Engine['docker']['getImage']>['push']>[0]);
    await followProgress(engine.docker, push, (line) => log.line(line)).catch((e: unknown) => {
      throw new BuildFailure(`pushing ${tag} to ${registry.label} failed: ${(e as Error).message}`);
    });
    return this.recorded(registry, repository, build.sha, log, pushStarted);
  }

  /** Digest and size as the registry has them: what deployments pull by, never the tag. */
  private async recorded(
    registry: ResolvedRegistry,
    repository: string,
    sha: string,
    log: StepLog,
    pushStarted: number,
  ): Promise<BuiltImage> {
    const manifest = await registry.client().manifest(repository, sha);
    if (!manifest)
      throw new BuildFailure(`${registry.label} does not have ${repository}:${sha} after the push`);
    const reference = `${registry.name}/${repository}@${manifest.digest}`;
    log.line(`gantry: pushed in ${Date.now() - pushStarted} ms: ${reference} (${manifest.size} bytes)`);
    return { digest: manifest.digest, reference, size: manifest.size };
  }

  /** The tar the engine builds from: the worktree and its Dockerfile, or a base image plus the artifact folder. */
  private async context(input: ImageBuildInput, image: GantryImage) {
    const root = await realpath(input.workdir);
    const skip = ['.git', STEP_HOME];
    if (image.base) {
      const path = input.config.build.artifact?.path ?? '.';
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
      const dockerfile = baseDockerfile(image.base, input.config.run?.command ?? '');
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

  private async finishStep(
    build: Build,
    idx: number,
    status: 'succeeded' | 'failed' | 'cancelled',
    exitCode: number | null,
    log: StepLog,
  ) {
    await log.close();
    await this.d.builds.updateStep(build.id, idx, {
      status,
      finishedAt: new Date().toISOString(),
      exitCode,
      logTail: log.tail(),
    });
    await this.event(build, 'build.step.finished', { idx, name: 'image', status, exitCode });
  }

  private event(b: Build, type: 'build.step.started' | 'build.step.finished', data: Record<string, unknown>) {
    return this.d.events.append({ type, appId: b.appId, subject: b.id, actor: 'runner', data });
  }
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

/** The step's log file, written as lines come, and its last 20 lines for the error and `log_tail`. */
class StepLog {
  private readonly out: WriteStream;
  private readonly last: string[] = [];

  constructor(file: string) {
    this.out = createWriteStream(file, { flags: 'a', mode: 0o600 });
    this.out.on('error', () => undefined);
  }

  line(text: string): void {
    for (const line of text.split('\n')) {
      const cut = line.length > 4096 ? `${line.slice(0, 4096)} … [line cut]` : line;
      this.out.write(`${cut}\n`);
      this.last.push(cut);
      if (this.last.length > 20) this.last.shift();
    }
  }

  tail(): string {
    return this.last.join('\n');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(resolve));
  }
}
