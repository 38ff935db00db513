import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, realpath, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Build } from '@gantry/contracts';
import { formatConfigIssue, type GantryYaml, parseGantryYaml } from '@gantry/contracts';
import type { Logger } from 'pino';
import type { EventStore } from '../../events/event-store.js';
import type { Sandbox } from '../../sandbox/host-sandbox.js';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../apps/app-store.js';
import { packDirectory } from '../artifacts/artifact-pack.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { BlobStore } from '../artifacts/blob-store.js';
import { SecretMasker } from '../secrets/secret-masker.js';
import type { BuildCache } from './build-cache.js';
import { BuildFailure } from './build-failure.js';
import { insideWorktree, OutsideWorktree, readRootFile, STEP_HOME, stepSandbox } from './build-sandbox.js';
import type { BuildService } from './build-service.js';
import type { BuildStore } from './build-store.js';
import { type ImageBuilder, imageStep } from './image-build.js';
import { killGroup, runStep } from './run-step.js';

export interface BuildRunnerDeps {
  builds: BuildStore;
  service: BuildService;
  apps: AppService;
  artifacts: ArtifactStore;
  blobs: BlobStore;
  cache: BuildCache;
  events: EventStore;
  logger: Logger;
  dataDir: string;
  /** Where steps run; packing stays in-process (see docs/architecture.md, Security model). */
  sandbox: Sandbox;
  concurrency: number;
  staleAfterMs: number;
  /** `builds.max_attempts`: a build interrupted on this attempt fails instead of being queued again. */
  maxAttempts?: number;
  heartbeatMs?: number;
  /** Builds `build.image` artifacts; without it such a build fails saying images are not set up. */
  images?: ImageBuilder;
  /** The app-wide values of `build.secrets` (features/secrets). */
  secrets: BuildSecrets;
}

/** Where a build reads the values of its `build.secrets` (features/secrets), on a server or for an agent. */
export interface BuildSecrets {
  secretsFor(
    app: { id: string; name: string },
    env: null,
    names: readonly string[],
  ): Promise<Record<string, string>>;
}

/** Claims queued builds and runs them; survives restarts through heartbeats and the sweeper. */
export class BuildRunner {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly active = new Map<string, AbortController>();
  private stopped = false;
  private wake: () => void = () => {};
  private loopDone?: Promise<void>;
  private heartbeat?: NodeJS.Timeout;

  constructor(private readonly d: BuildRunnerDeps) {}

  async start(): Promise<void> {
    await this.sweep();
    this.d.service.onQueued(() => this.wake());
    this.heartbeat = setInterval(
      () => void this.tick().catch((e) => this.d.logger.error(e)),
      this.d.heartbeatMs ?? 1_000,
    );
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    for (const ac of this.active.values()) ac.abort(new Error('server stopping'));
    this.wake();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    const running = new Set<Promise<void>>();
    while (!this.stopped) {
      if (running.size < this.d.concurrency) {
        const build = await this.d.builds.claimNext(this.id).catch((e: unknown) => {
          this.d.logger.error({ err: e }, 'claiming a build failed');
          return undefined;
        });
        if (build) {
          const p = this.execute(build)
            // A build that could not even record its failure (the database is gone) is left
            // `running`; the sweeper of the next start, or of another runner, takes it over.
            .catch((err: unknown) => this.d.logger.error({ err, build: build.id }, 'running a build failed'))
            .finally(() => {
              running.delete(p);
              this.wake();
            });
          running.add(p);
          continue;
        }
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1_000);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    await Promise.allSettled(running);
  }

  /** Heartbeat for our builds, cancel requests, and requeue of builds whose runner died. */
  private async tick(): Promise<void> {
    const ids = [...this.active.keys()];
    await this.d.builds.heartbeat(ids, this.id);
    for (const id of ids) {
      if (await this.d.builds.isCancelRequested(id)) this.active.get(id)?.abort(new Error('cancelled'));
    }
    await this.sweep();
  }

  async sweep(): Promise<void> {
    const now = Date.now();
    for (const r of await this.d.builds.running()) {
      if (r.runnerId === this.id) continue;
      const stale = !r.heartbeatAt || now - Date.parse(r.heartbeatAt) > this.d.staleAfterMs;
      if (!stale && !deadLocalRunner(r.runnerId)) continue;
      const build = await this.d.builds.find(r.id);
      if (!build) continue;
      // Steps run in their own process group and outlive a killed server; stop what it left behind.
      if (sameHost(r.runnerId))
        for (const pid of await this.d.builds.runningStepPids(r.id)) killGroup(pid, 'SIGKILL');
      // A build that keeps taking its runner down (or keeps being cut off) must not loop forever.
      if (build.attempt >= (this.d.maxAttempts ?? 3)) {
        await this.giveUp(build, r.runnerId);
        continue;
      }
      if (!(await this.d.builds.finish(r.id, { status: 'interrupted', error: 'runner stopped mid-build' })))
        continue;
      await this.d.builds.interruptRunningSteps(r.id);
      await this.d.events.append({
        type: 'build.interrupted',
        appId: build.appId,
        subject: build.id,
        actor: 'runner',
        data: { runner: r.runnerId },
      });
      const app = await this.d.apps.getById(build.appId);
      const res = await this.d.service.request(app, build.sha, {
        reason: 'retry',
        actor: 'runner',
        attempt: build.attempt + 1,
      });
      if (res.kind === 'queued') {
        await this.d.events.append({
          type: 'build.requeued',
          appId: build.appId,
          subject: res.build.id,
          actor: 'runner',
          data: { interrupted: build.id },
        });
      }
    }
  }

  private async giveUp(build: Build, runnerId: string | null): Promise<void> {
    const error = `interrupted ${build.attempt === 1 ? 'once' : `${build.attempt} times`} (the runner stopped mid-build each time); not queued again`;
    if (!(await this.d.builds.finish(build.id, { status: 'failed', error }))) return;
    await this.d.builds.interruptRunningSteps(build.id);
    await this.d.events.append({
      type: 'build.interrupted',
      appId: build.appId,
      subject: build.id,
      actor: 'runner',
      data: { runner: runnerId },
    });
    await this.event(build, 'build.failed', { sha: build.sha, error, exitCode: null });
  }

  private async execute(build: Build): Promise<void> {
    const ac = new AbortController();
    this.active.set(build.id, ac);
    const workdir = join(this.d.dataDir, 'work', build.id);
    const app = await this.d.apps.getById(build.appId);
    const mirror = this.d.apps.mirrorOf(app);
    const log = this.d.logger.child({ build: build.id, app: app.name });
    await this.d.events.append({
      type: 'build.started',
      appId: app.id,
      subject: build.id,
      actor: 'runner',
      data: { sha: build.sha, runner: this.id },
    });
    const sloTimer = setTimeout(
      () =>
        void this.flagSlo(build).catch((err: unknown) => log.warn({ err }, 'could not flag the SLO breach')),
      build.sloMs,
    );
    const killTimer = setTimeout(() => ac.abort(new Error('timeout')), build.sloMs * 2);
    try {
      await mirror.addWorktree(build.sha, workdir);
      const config = await this.loadConfig(workdir, build.sha);
      const cacheKey = config.build.cache?.length
        ? await mirror.lockFileHash(build.sha, config.build.cache_key)
        : null;
      if (cacheKey) await this.d.cache.restore(app.id, cacheKey, config.build.cache ?? [], workdir);
      await this.runSteps(build, config, workdir, ac.signal, {
        id: app.id,
        name: app.name,
        mirror: mirror.path,
      });
      const made = config.build.image
        ? await this.image(build, app, config, workdir, ac.signal)
        : await this.tarball(workdir, config.build.artifact?.path ?? '.');
      const artifact = await this.d.artifacts.insertCurrent({
        appId: app.id,
        sha: build.sha,
        buildId: build.id,
        ...made,
      });
      await this.d.builds.finish(build.id, { status: 'succeeded', exitCode: 0, artifactId: artifact.id });
      await this.d.events.append({
        type: 'artifact.created',
        appId: app.id,
        subject: artifact.id,
        actor: 'runner',
        data: { sha: build.sha, buildId: build.id, ...made },
      });
      await this.d.events.append({
        type: 'build.succeeded',
        appId: app.id,
        subject: build.id,
        actor: 'runner',
        data: { sha: build.sha, artifactId: artifact.id, digest: made.digest, kind: made.kind },
      });
      await this.d.service.pushBuildSucceeded(build).catch((err: unknown) => {
        log.error({ err }, 'auto-deploy after the build failed');
      });
      if (cacheKey)
        await this.d.cache.save(app.id, cacheKey, config.build.cache ?? [], workdir).catch(() => false);
    } catch (e) {
      await this.fail(build, e, ac.signal, log);
    } finally {
      clearTimeout(sloTimer);
      clearTimeout(killTimer);
      this.active.delete(build.id);
      await mirror.removeWorktree(workdir).catch(() => undefined);
      await rm(workdir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  private async tarball(workdir: string, path: string) {
    const tmp = this.d.blobs.tmpPath();
    const packed = await this.pack(workdir, path, tmp).catch((e: unknown) => {
      throw new BuildFailure(e instanceof Error ? e.message : String(e));
    });
    await this.d.blobs.put(tmp, packed.digest);
    return { kind: 'tarball' as const, digest: packed.digest, size: packed.size, reference: null };
  }

  /** The image step (features/builds/image-build.ts): after the steps, outside the sandbox. */
  private async image(
    build: Build,
    app: AppRecord,
    config: GantryYaml,
    workdir: string,
    signal: AbortSignal,
  ) {
    if (!this.d.images) throw new BuildFailure('build.image is set but this server does not build images');
    const idx = config.build.steps.length;
    const image = await this.d.images.run({
      build,
      app,
      config,
      workdir,
      idx,
      logFile: this.d.service.logPath(build.id, idx),
      signal,
      source: app.repoUrl,
    });
    return { kind: 'image' as const, ...image };
  }

  private async loadConfig(workdir: string, sha: string): Promise<GantryYaml> {
    const text = await readRootFile(workdir, 'gantry.yaml').catch((e: unknown) => {
      if (e instanceof OutsideWorktree) throw new BuildFailure(e.message);
      return null;
    });
    if (text === null) {
      throw new BuildFailure(
        `gantry.yaml not found at ${sha.slice(0, 12)}: add one at the repository root (see \`gantry validate\`)`,
      );
    }
    const { config, errors } = parseGantryYaml(text, 'gantry.yaml');
    if (!config || errors.length) {
      throw new BuildFailure(`gantry.yaml is not valid:\n${errors.map(formatConfigIssue).join('\n')}`);
    }
    return config;
  }

  private async runSteps(
    b: Build,
    config: GantryYaml,
    cwd: string,
    signal: AbortSignal,
    app: { id: string; name: string; mirror: string },
  ) {
    const steps = config.build.steps;
    const all = config.build.image ? [...steps, imageStep(config.build.image)] : steps;
    // Declared secrets only, masked in the log; one that is not set fails the build before any step.
    const secrets = config.build.secrets?.length
      ? await this.d.secrets.secretsFor(app, null, config.build.secrets).catch((e: Error) => {
          throw new BuildFailure(e.message);
        })
      : {};
    const mask = new SecretMasker(Object.values(secrets));
    await this.d.builds.insertSteps(b.id, all);
    const deadline = Date.parse(b.startedAt ?? new Date().toISOString()) + b.sloMs * 2;
    const { env, wrapper, logLine } = await stepSandbox(this.d.sandbox, b, config, app, cwd, secrets);
    const firstLog = this.d.service.logPath(b.id, 0);
    await mkdir(dirname(firstLog), { recursive: true, mode: 0o700 });
    await appendFile(firstLog, logLine, { mode: 0o600 });
    for (const [idx, step] of steps.entries()) {
      const startedAt = new Date().toISOString();
      await this.d.builds.updateStep(b.id, idx, { status: 'running', startedAt });
      await this.event(b, 'build.step.started', { idx, name: step.name });
      const untilDeadline = deadline - Date.now();
      // When the build's deadline comes first, a stop is the build's SLO, whichever timer fires first.
      const byDeadline = untilDeadline <= (step.timeout ?? Number.POSITIVE_INFINITY);
      const out = await runStep({
        command: step.run,
        cwd,
        env,
        wrapper,
        logFile: this.d.service.logPath(b.id, idx),
        timeoutMs: Math.max(1, Math.min(step.timeout ?? Number.POSITIVE_INFINITY, untilDeadline)),
        signal,
        mask,
        onSpawn: (pid) =>
          void this.d.builds
            .updateStep(b.id, idx, { pid })
            .catch((err: unknown) =>
              this.d.logger.warn({ err, build: b.id }, 'could not record the step pid'),
            ),
      });
      const ok = out.exitCode === 0 && !out.stoppedBy;
      const status = ok ? 'succeeded' : out.stoppedBy === 'abort' ? 'cancelled' : 'failed';
      await this.d.builds.updateStep(b.id, idx, {
        status,
        finishedAt: new Date().toISOString(),
        exitCode: out.exitCode,
        logTail: out.tail,
        pid: null,
      });
      await this.event(b, 'build.step.finished', { idx, name: step.name, status, exitCode: out.exitCode });
      if (ok) continue;
      for (let rest = idx + 1; rest < all.length; rest++)
        await this.d.builds.updateStep(b.id, rest, { status: 'skipped' });
      if (out.stoppedBy === 'abort') throw signal.reason ?? new Error('cancelled');
      const why =
        out.failure ??
        (out.stoppedBy === 'timeout'
          ? byDeadline
            ? sloStopMessage(b.sloMs)
            : `step "${step.name}" timed out and was stopped`
          : `step "${step.name}" failed with exit code ${out.exitCode}`);
      throw new BuildFailure(`${why}; last lines:\n${out.tail}`, out.exitCode);
    }
  }

  /**
   * Packs the artifact folder in-process: every sandboxed process of the build is gone by now (its pid
   * namespace died with the last step), the folder must resolve inside the worktree, and links inside
   * it must stay inside it (assertLinkInside), so nothing outside the build can be read.
   */
  private async pack(workdir: string, path: string, out: string) {
    const dir = await insideWorktree(workdir, path, 'artifact path').catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return join(workdir, path);
      throw e;
    });
    const atRoot = dir === (await realpath(workdir));
    return packDirectory(dir, out, { displayPath: path, ...(atRoot && { exclude: [STEP_HOME] }) });
  }

  private async fail(build: Build, e: unknown, signal: AbortSignal, log: Logger): Promise<void> {
    const reason = signal.aborted ? (signal.reason as Error | undefined)?.message : undefined;
    if (reason === 'server stopping') return; // left running: the next start's sweeper requeues it
    const cancelled = reason === 'cancelled';
    const message =
      reason === 'timeout'
        ? sloStopMessage(build.sloMs)
        : cancelled
          ? 'build cancelled'
          : e instanceof Error
            ? e.message
            : String(e);
    if (!(e instanceof BuildFailure) && !signal.aborted) log.error({ err: e }, 'build crashed');
    const status = cancelled ? 'cancelled' : 'failed';
    const exitCode = e instanceof BuildFailure ? e.exitCode : null;
    await this.d.builds.finish(build.id, { status, exitCode, error: message });
    await this.event(build, cancelled ? 'build.cancelled' : 'build.failed', {
      sha: build.sha,
      error: message,
      exitCode,
    });
  }

  private async flagSlo(b: Build): Promise<void> {
    await this.d.builds.markSloBreached(b.id);
    await this.event(b, 'build.slo_breached', { sloMs: b.sloMs });
  }

  private event(b: Build, type: Parameters<EventStore['append']>[0]['type'], data: Record<string, unknown>) {
    return this.d.events.append({ type, appId: b.appId, subject: b.id, actor: 'runner', data });
  }
}

function sameHost(runnerId: string | null): boolean {
  return runnerId?.split(':')[0] === hostname();
}

/** A runner id names its host and pid; on this host a pid that no longer exists is a dead runner. */
function deadLocalRunner(runnerId: string | null): boolean {
  if (!runnerId) return true;
  const [host, pid] = runnerId.split(':');
  if (host !== hostname() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch {
    return true;
  }
}

function sloStopMessage(sloMs: number): string {
  return `build exceeded twice its SLO (${Math.round((sloMs * 2) / 1000)} s) and was stopped`;
}
