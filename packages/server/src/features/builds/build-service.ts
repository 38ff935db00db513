import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Artifact, Build, BuildStatus } from '@gantry/contracts';
import { type GantryYaml, parseGantryYaml } from '@gantry/contracts';
import { NotFound } from '../../errors.js';
import type { EventStore } from '../../events/event-store.js';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../apps/app-store.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { BuildStore } from './build-store.js';
import type { SharedBuildLogs } from './shared-build-logs.js';

export const DEFAULT_BUILD_SLO_MS = 10 * 60_000;

export type BuildRequestResult =
  | { kind: 'queued'; build: Build }
  | { kind: 'in-progress'; build: Build }
  | { kind: 'artifact-exists'; artifact: Artifact };

export interface BuildRequest {
  reason: 'push' | 'manual' | 'rebuild' | 'retry';
  actor: string;
  rebuild?: boolean;
  attempt?: number;
  /** The commit's parsed gantry.yaml when the caller has read it already. */
  config?: GantryYaml;
}

export class BuildService {
  private wakeRunner: () => void = () => {};
  private readonly succeededHandlers: ((build: Build) => Promise<unknown>)[] = [];

  constructor(
    private readonly builds: BuildStore,
    private readonly artifacts: ArtifactStore,
    private readonly apps: AppService,
    private readonly events: EventStore,
    private readonly dataDir: string,
    /** With several servers on PostgreSQL: step logs any of them wrote or received. */
    private readonly sharedLogs?: Pick<SharedBuildLogs, 'read'>,
  ) {}

  private waitingFor?: (labels: string[]) => Promise<string>;

  /** Says why a queued build with runs_on waits (features/agents). */
  explainWaiting(fn: (labels: string[]) => Promise<string>): void {
    this.waitingFor = fn;
  }

  onQueued(wake: () => void): void {
    this.wakeRunner = wake;
  }

  /** Called after each successful build of a pushed commit (auto-deploy listens here). */
  onPushBuildSucceeded(handler: (build: Build) => Promise<unknown>): void {
    this.succeededHandlers.push(handler);
  }

  async pushBuildSucceeded(build: Build): Promise<void> {
    if (build.reason !== 'push' && build.reason !== 'retry') return;
    for (const h of this.succeededHandlers) await h(build);
  }

  logPath(buildId: string, idx: number): string {
    return join(this.dataDir, 'logs', buildId, `${idx}.log`);
  }

  /**
   * A step's log from `offset` (at most about 1 MiB): this server's file when its runner wrote
   * it, else the database's copy (another server's runner, or an agent), when logs are shared.
   */
  async readLog(buildId: string, idx: number, offset: number): Promise<Buffer> {
    const local = await readFileFrom(this.logPath(buildId, idx), offset);
    if (local) return local;
    return this.sharedLogs ? this.sharedLogs.read(buildId, idx, offset) : Buffer.alloc(0);
  }

  /** Builds new commits as the app's `build.mode` says: only the newest head, or every commit. */
  async onNewCommits(app: AppRecord, shas: string[], actor: string): Promise<string[]> {
    const head = shas.at(-1);
    if (!head) return [];
    const headConfig = await this.readConfig(app, head);
    const mode = headConfig?.build.mode ?? 'latest';
    const targets = mode === 'every' ? shas : [head];
    const ids: string[] = [];
    for (const sha of targets) {
      const config = sha === head ? headConfig : undefined;
      const res = await this.request(app, sha, { reason: 'push', actor, config });
      if (res.kind !== 'artifact-exists') ids.push(res.build.id);
    }
    if (mode === 'latest') {
      for (const id of await this.builds.supersedeQueued(app.id, head)) {
        await this.events.append({
          type: 'build.superseded',
          appId: app.id,
          subject: id,
          actor,
          data: { by: head },
        });
      }
    }
    return ids;
  }

  /** Queues a build of `sha` unless it already has an artifact or a live build (then says so). */
  async request(app: AppRecord, sha: string, req: BuildRequest): Promise<BuildRequestResult> {
    const existing = await this.builds.findLive(app.id, sha);
    const inProgress = existing.find((b) => b.status === 'queued' || b.status === 'running');
    if (inProgress) return { kind: 'in-progress', build: inProgress };
    if (!req.rebuild) {
      const artifact = await this.artifacts.findCurrent(app.id, sha);
      if (artifact) return { kind: 'artifact-exists', artifact };
    }
    const config = req.config ?? (await this.readConfig(app, sha));
    const build = await this.builds.enqueue({
      appId: app.id,
      sha,
      reason: req.reason,
      requestedBy: req.actor,
      sloMs: config?.build.timeout ?? DEFAULT_BUILD_SLO_MS,
      attempt: req.attempt,
      runsOn: config?.build.runs_on ?? null,
    });
    await this.events.append({
      type: 'build.queued',
      appId: app.id,
      subject: build.id,
      actor: req.actor,
      data: { sha, reason: req.reason, attempt: build.attempt },
    });
    this.wakeRunner();
    return { kind: 'queued', build };
  }

  /** Resolves a ref in the app's mirror (fetching first) and requests a build of it. */
  async requestRef(appName: string, ref: string, req: BuildRequest): Promise<BuildRequestResult> {
    const app = await this.apps.get(appName);
    const mirror = this.apps.mirrorOf(app);
    await mirror.fetch();
    const sha = await mirror.resolve(ref);
    return this.request(app, sha, req);
  }

  async cancel(id: string, actor: string): Promise<Build> {
    const build = await this.get(id);
    const outcome = await this.builds.requestCancel(id);
    if (outcome === 'cancelled') {
      await this.events.append({ type: 'build.cancelled', appId: build.appId, subject: id, actor, data: {} });
    }
    return this.get(id);
  }

  list(q: { appId?: string; status?: BuildStatus; sha?: string; limit?: number; before?: string }) {
    return this.builds.list(q);
  }

  async get(id: string): Promise<Build> {
    const build = await this.builds.find(id);
    if (!build) throw new NotFound(`no build "${id}"; list builds with \`gantry builds\``);
    const waiting =
      build.status === 'queued' && build.runsOn && this.waitingFor
        ? { waiting: await this.waitingFor(build.runsOn) }
        : {};
    return { ...build, ...waiting, steps: await this.builds.steps(id) };
  }

  private async readConfig(app: AppRecord, sha: string) {
    const text = await this.apps
      .mirrorOf(app)
      .readFile(sha, 'gantry.yaml')
      .catch(() => null);
    return text === null ? undefined : parseGantryYaml(text).config;
  }
}

/** The file's bytes from `offset` (at most 1 MiB), or null when there is no such file. */
async function readFileFrom(file: string, offset: number): Promise<Buffer | null> {
  const fh = await open(file, 'r').catch(() => null);
  if (!fh) return null;
  try {
    const { size } = await fh.stat();
    if (size <= offset) return Buffer.alloc(0);
    const buf = Buffer.alloc(Math.min(size - offset, 1 << 20));
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
