import { createWriteStream, type WriteStream } from 'node:fs';
import type { Build, GantryImage, GantryYaml } from '@gantry/contracts';
import type { Logger } from 'pino';
import { connectEngine, type Engine } from '../../containers/engine.js';
import type { EventStore } from '../../events/event-store.js';
import type { AppRecord } from '../apps/app-store.js';
import { type ImageRegistries, NoRegistry, type ResolvedRegistry } from '../artifacts/image-registries.js';
import { BuildFailure } from './build-failure.js';
import type { BuildStore } from './build-store.js';
import { buildAndPushImage, withoutCredentials } from './image-engine.js';

export { baseDockerfile, withoutCredentials } from './image-engine.js';

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
 * (image-engine.ts, shared with agents) and takes its digest and size from the registry (podman's
 * push stream carries no digest). Runs in the engine's own isolation, after the sandboxed steps: the
 * engine socket and the registry credentials never reach a step. The engine's output is the step's
 * log, written as it comes.
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
    // A registry that is down or refuses the credentials fails the build before the engine works.
    await registry.client().ping();
    log.line(`gantry: registry ${registry.label} answers; the image goes to ${name}:${build.sha}`);
    const engine = await this.connect();
    await buildAndPushImage(
      engine,
      {
        name,
        tag: build.sha,
        registry: registry.name,
        registryLabel: registry.label,
        image,
        workdir: input.workdir,
        artifactPath: config.build.artifact?.path ?? '.',
        command: config.run?.command ?? '',
        revision: build.sha,
        source: withoutCredentials(input.source),
        network: config.build.network !== false,
        ...(registry.config.auth && { auth: registry.config.auth }),
        insecure: registry.config.insecure,
        signal,
      },
      (line) => log.line(line),
    );
    const made = await recordedImage(registry, repository, build.sha);
    if (!made)
      throw new BuildFailure(`${registry.label} does not have ${repository}:${build.sha} after the push`);
    log.line(`gantry: the registry has ${made.reference} (${made.size} bytes)`);
    return made;
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

/**
 * Digest and size of `<repository>:<sha>` as the registry has them (what deployments pull by, never
 * the tag), or null when it does not have the tag. The servers' own builds and the images agents
 * push are both recorded from here: the registry is the one that says what the image is.
 */
export async function recordedImage(
  registry: ResolvedRegistry,
  repository: string,
  sha: string,
): Promise<BuiltImage | null> {
  const manifest = await registry.client().manifest(repository, sha);
  if (!manifest) return null;
  const reference = `${registry.name}/${repository}@${manifest.digest}`;
  return { digest: manifest.digest, reference, size: manifest.size };
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
