import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { appendFile, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Build, formatConfigIssue, type GantryYaml, parseGantryYaml } from '@gantry/contracts';
import type { Logger } from 'pino';
import { withRegistryRetries } from '../../containers/registry.js';
import type { Db } from '../../db/database.js';
import { Conflict, InvalidInput, NotAllowed, NotFound } from '../../errors.js';
import type { EventStore } from '../../events/event-store.js';
import { nowIso } from '../../ids.js';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../apps/app-store.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { type BlobStore, digestHex } from '../artifacts/blob-store.js';
import { type ImageRegistries, NoRegistry } from '../artifacts/image-registries.js';
import type { Principal, TokenService } from '../auth/token-service.js';
import type { BuildSecrets } from '../builds/build-runner.js';
import type { BuildService } from '../builds/build-service.js';
import type { BuildStore } from '../builds/build-store.js';
import { imageStep, recordedImage } from '../builds/image-build.js';
import { withoutCredentials } from '../builds/image-engine.js';
import type { SharedBuildLogs } from '../builds/shared-build-logs.js';
import type { AgentFinish, AgentInfo, AgentJob } from './agent-job.js';

export interface AgentServiceDeps {
  db: Db;
  tokens: TokenService;
  builds: BuildStore;
  service: BuildService;
  apps: AppService;
  artifacts: ArtifactStore;
  blobs: BlobStore;
  events: EventStore;
  logger: Logger;
  secrets: BuildSecrets;
  /** Where `build.image` artifacts go: the agent is told the image's name, the server reads its digest there. */
  registries: ImageRegistries;
  /** An agent seen within this long counts as connected (the waiting reason of a queued build). */
  staleAfterMs: number;
  /**
   * The waits between reads of an agent's pushed image while the registry does not answer (or
   * answers 5xx); default 1, 2, 4 and 8 s: under the agent's 30 s request timeout.
   */
  registryRetryMs?: readonly number[];
  /** With several servers on PostgreSQL, where the step logs agents send go. */
  sharedLogs?: Pick<SharedBuildLogs, 'append'>;
}

export type { AgentFinish, AgentImageJob, AgentInfo, AgentJob } from './agent-job.js';

/**
 * Remote build agents: agent tokens with their labels, the builds whose gantry.yaml names
 * `build.runs_on`, handed out as leases on the builds table (runner_id and heartbeat_at, so the
 * servers' sweeper requeues the build of an agent that stopped heartbeating), and the writes of an
 * agent, each refused (409) once its lease is lost.
 */
export class AgentService {
  constructor(private readonly d: AgentServiceDeps) {}

  async createToken(name: string, labels: string[], actor: string) {
    const created = await this.d.tokens.create(name, 'agent', actor);
    await this.d.db
      .insertInto('agents')
      .values({
        token_id: created.id,
        labels: JSON.stringify(labels),
        created_at: nowIso(),
        last_seen_at: null,
      })
      .execute();
    return { id: created.id, name, labels, token: created.token };
  }

  async list(): Promise<AgentInfo[]> {
    const rows = await this.d.db
      .selectFrom('agents as a')
      .innerJoin('tokens as t', 't.id', 'a.token_id')
      .select(['t.id', 't.name', 'a.labels', 'a.created_at', 'a.last_seen_at', 't.revoked_at'])
      .orderBy('a.created_at', 'desc')
      .execute();
    const now = Date.now();
    const held = await this.d.db
      .selectFrom('agent_hosts')
      .select(['host', 'agent_id', 'seen_at', 'expires_at'])
      .where('expires_at', '>', new Date(now).toISOString())
      .orderBy('host')
      .execute();
    return rows.map((r) => {
      const hosts = held
        .filter((h) => h.agent_id === r.id)
        .map((h) => ({ host: h.host, seenAt: h.seen_at, expiresAt: h.expires_at }));
      const seen = [r.last_seen_at, ...hosts.map((h) => h.seenAt)]
        .filter((t): t is string => t !== null)
        .map((t) => Date.parse(t));
      const last = seen.length ? Math.max(...seen) : null;
      return {
        id: r.id,
        name: r.name,
        labels: JSON.parse(r.labels) as string[],
        createdAt: r.created_at,
        lastSeenAt: last === null ? null : new Date(last).toISOString(),
        revokedAt: r.revoked_at,
        connected: r.revoked_at === null && last !== null && now - last < this.d.staleAfterMs,
        hosts,
      };
    });
  }

  async revoke(id: string, actor: string): Promise<void> {
    const owner = await this.d.tokens.ownerOf(id);
    if (owner.role !== 'agent') throw new NotFound(`no agent token ${id}; \`gantry agents list\` shows them`);
    await this.d.tokens.revoke(id, actor);
  }

  /** Why a queued build with runs_on waits: no agent token has the labels, none is connected, or all are busy. */
  async waitingReason(labels: string[]): Promise<string> {
    const want = `waiting for an agent with labels ${labels.join(', ')}`;
    const able = (await this.list()).filter((a) => !a.revokedAt && labels.every((l) => a.labels.includes(l)));
    if (able.length === 0)
      return `${want}: no agent token has them (\`gantry agents token create --labels ${labels.join(',')}\`, then \`gantry agent\` on a machine)`;
    const since = Date.now() - Math.max(this.d.staleAfterMs, 30_000);
    const connected = able.filter((a) => a.lastSeenAt && Date.parse(a.lastSeenAt) > since);
    if (connected.length === 0)
      return `${want}: ${able.length} agent token(s) have them but no such agent has asked for work lately`;
    return `${want}: ${connected.length} connected agent(s) have them and are busy or about to take it`;
  }

  async labelsOf(p: Principal): Promise<string[]> {
    const row = await this.d.db
      .selectFrom('agents')
      .select('labels')
      .where('token_id', '=', p.tokenId ?? '')
      .executeTakeFirst();
    if (!row) throw new NotAllowed(`token "${p.name}" is not an agent token`);
    return JSON.parse(row.labels) as string[];
  }

  /** Hands the oldest queued build the agent can take to it, or returns null. */
  async claim(p: Principal, asked: string[] | undefined): Promise<AgentJob | null> {
    const own = await this.labelsOf(p);
    const extra = (asked ?? []).filter((l) => !own.includes(l));
    if (extra.length)
      throw new NotAllowed(
        `this agent token has the labels ${own.join(', ') || '(none)'}, not ${extra.join(', ')}; create a token with them (\`gantry agents token create --labels …\`)`,
      );
    const labels = asked?.length ? asked : own;
    await this.d.db
      .updateTable('agents')
      .set({ last_seen_at: nowIso() })
      .where('token_id', '=', p.tokenId!)
      .execute();
    for (let tries = 0; tries < 5; tries++) {
      const candidates = await this.d.db
        .selectFrom('builds')
        .select(['id', 'runs_on'])
        .where('status', '=', 'queued')
        .where('runs_on', 'is not', null)
        .orderBy('queued_at')
        .orderBy('id')
        .limit(100)
        .execute();
      const fit = candidates.find((c) =>
        (JSON.parse(c.runs_on!) as string[]).every((l) => labels.includes(l)),
      );
      if (!fit) return null;
      const lease = `agent:${p.tokenId}:${randomBytes(4).toString('hex')}`;
      const now = nowIso();
      const res = await this.d.db
        .updateTable('builds')
        .set({ status: 'running', runner_id: lease, started_at: now, heartbeat_at: now })
        .where('id', '=', fit.id)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) continue;
      const build = (await this.d.builds.find(fit.id))!;
      const job = await this.prepare(build, lease, p.name).catch(async (e: unknown) => {
        await this.fail(build, lease, e instanceof Error ? e.message : String(e), null);
        return null;
      });
      if (job) return job;
    }
    return null;
  }

  /** The build's app and its gantry.yaml at the build's commit, from the server's mirror. */
  private async configOf(build: Build) {
    const app = await this.d.apps.getById(build.appId);
    const text = await this.d.apps.mirrorOf(app).readFile(build.sha, 'gantry.yaml');
    if (text === null) throw new Error(`gantry.yaml not found at ${build.sha.slice(0, 12)}`);
    const { config, errors } = parseGantryYaml(text, 'gantry.yaml');
    if (!config || errors.length)
      throw new Error(`gantry.yaml is not valid:\n${errors.map(formatConfigIssue).join('\n')}`);
    return { app, config };
  }

  /** Where the build's image goes: the app's registry and the repository in it. */
  private async imageTarget(app: AppRecord, config: GantryYaml) {
    const registry = await this.d.registries.forApp(app).catch((e: unknown) => {
      throw new Error(e instanceof NoRegistry ? e.message : `registry: ${(e as Error).message}`);
    });
    return { registry, repository: registry.repository(app.name, config.build.image?.repository) };
  }

  private async prepare(build: Build, lease: string, agent: string): Promise<AgentJob> {
    const { app, config } = await this.configOf(build);
    const image = config.build.image;
    const target = image ? await this.imageTarget(app, config) : null;
    const secrets = config.build.secrets?.length
      ? await this.d.secrets.secretsFor(app, null, config.build.secrets)
      : {};
    const cacheKey = config.build.cache?.length
      ? await this.d.apps.mirrorOf(app).lockFileHash(build.sha, config.build.cache_key)
      : null;
    // The image is one more step, as on the servers: the step indexes the agent reports line up.
    await this.d.builds.insertSteps(
      build.id,
      image ? [...config.build.steps, imageStep(image)] : config.build.steps,
    );
    await this.event(build, 'build.started', { sha: build.sha, runner: lease, agent });
    return {
      lease,
      build: {
        id: build.id,
        app: app.name,
        sha: build.sha,
        attempt: build.attempt,
        sloMs: build.sloMs,
        startedAt: build.startedAt ?? nowIso(),
      },
      steps: config.build.steps.map((s) => ({ name: s.name, run: s.run, timeout: s.timeout ?? null })),
      artifactPath: config.build.artifact?.path ?? '.',
      env: config.build.env,
      network: config.build.network,
      secrets,
      ...(cacheKey && { cache: { key: cacheKey, folders: config.build.cache ?? [] } }),
      ...(image &&
        target && {
          image: {
            name: `${target.registry.name}/${target.repository}`,
            tag: build.sha,
            registry: target.registry.name,
            registryUrl: target.registry.client().base,
            ...(image.base && { base: image.base }),
            ...(image.dockerfile && { dockerfile: image.dockerfile }),
            command: config.run?.command ?? '',
            source: withoutCredentials(app.repoUrl),
          },
        }),
    };
  }

  /** The build, while `lease` (held by this agent token) is its current lease; else 409. */
  async leased(p: Principal, buildId: string, lease: string): Promise<Build> {
    const row = await this.d.db
      .selectFrom('builds')
      .select(['status', 'runner_id'])
      .where('id', '=', buildId)
      .executeTakeFirst();
    if (!row) throw new NotFound(`no build "${buildId}"`);
    if (!lease.startsWith(`agent:${p.tokenId}:`) || row.status !== 'running' || row.runner_id !== lease)
      throw new Conflict(
        `the lease on build ${buildId} is lost (the build is ${row.status}${row.status === 'running' ? ' under another lease' : ''}); drop the job`,
      );
    return (await this.d.builds.find(buildId))!;
  }

  /** The source at the build's commit as a tar.gz, made from the server's mirror (`git archive`). */
  async source(build: Build): Promise<Readable> {
    const app = await this.d.apps.getById(build.appId);
    const mirror = this.d.apps.mirrorOf(app);
    await mirror.readFile(build.sha, 'gantry.yaml'); // the mirror exists and knows the commit
    const child = spawn('git', ['--git-dir', mirror.path, 'archive', '--format=tar.gz', build.sha], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return child.stdout;
  }

  async heartbeat(p: Principal, build: Build, lease: string): Promise<{ cancel: boolean }> {
    await this.d.builds.heartbeat([build.id], lease);
    await this.flagSlo(build);
    await this.d.db
      .updateTable('agents')
      .set({ last_seen_at: nowIso() })
      .where('token_id', '=', p.tokenId!)
      .execute();
    return { cancel: await this.d.builds.isCancelRequested(build.id) };
  }

  async appendLog(build: Build, step: number, data: Buffer): Promise<void> {
    // With several servers the agent's chunks may reach any of them: they go to the database.
    if (this.d.sharedLogs) return this.d.sharedLogs.append(build.id, step, data);
    const file = this.d.service.logPath(build.id, step);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await appendFile(file, data, { mode: 0o600 });
  }

  async step(
    build: Build,
    idx: number,
    s: { status: 'running' | 'succeeded' | 'failed' | 'cancelled'; exitCode?: number | null; tail?: string },
  ): Promise<void> {
    const steps = await this.d.builds.steps(build.id);
    const step = steps[idx];
    if (!step) throw new InvalidInput(`build ${build.id} has no step ${idx} (it has ${steps.length})`);
    if (s.status === 'running') {
      await this.d.builds.updateStep(build.id, idx, { status: 'running', startedAt: nowIso() });
      await this.event(build, 'build.step.started', { idx, name: step.name });
      return;
    }
    await this.d.builds.updateStep(build.id, idx, {
      status: s.status,
      finishedAt: nowIso(),
      exitCode: s.exitCode ?? null,
      logTail: s.tail ?? '',
    });
    await this.event(build, 'build.step.finished', {
      idx,
      name: step.name,
      status: s.status,
      exitCode: s.exitCode ?? null,
    });
  }

  /** Stores the uploaded artifact through the BlobStore once its bytes hash to `digest`. */
  async putArtifact(body: Readable, digest: string): Promise<{ digest: string; size: number }> {
    const hex = digestHex(digest);
    const tmp = this.d.blobs.tmpPath();
    await mkdir(dirname(tmp), { recursive: true });
    const hash = createHash('sha256');
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
    });
    try {
      await pipeline(body, createWriteStream(tmp, { mode: 0o600 }));
      const got = hash.digest('hex');
      if (got !== hex)
        throw new InvalidInput(`the artifact's bytes hash to sha256:${got}, not ${digest}; upload it again`);
      await this.d.blobs.put(tmp, digest);
    } finally {
      await rm(tmp, { force: true });
    }
    return { digest, size };
  }

  /**
   * Records the agent's result. The lease is checked before anything is written: a lost lease
   * leaves no artifact and no step behind (409). An image is recorded as the registry has it —
   * digest and size read from the registry itself, never taken from the agent.
   */
  async finish(build: Build, lease: string, f: AgentFinish): Promise<Build> {
    await this.stillLeased(build, lease);
    if (f.status !== 'succeeded') {
      if (!(await this.fail(build, lease, f.error, f.exitCode, f.status === 'cancelled'))) throw lost(build);
      return (await this.d.builds.find(build.id))!;
    }
    const { app, config } = await this.configOf(build).catch((e: Error) => {
      throw new InvalidInput(e.message);
    });
    const image = config.build.image;
    if (image && f.kind !== 'image')
      throw new InvalidInput(
        `build ${build.id} makes an image (build.image), not a tarball; this agent is too old to build images: upgrade gantry on its machine`,
      );
    if (!image && f.kind === 'image')
      throw new InvalidInput(`build ${build.id} makes a tarball: its gantry.yaml has no build.image`);
    let made: { kind: 'tarball' | 'image'; digest: string; size: number; reference: string | null };
    // The image step, after the build's own (as prepare inserted it): the server ends it.
    const idx = config.build.steps.length;
    let step: { idx: number; line: string; tail: string | undefined } | null = null;
    if (f.kind === 'image') {
      const pushed = await this.pushedImage(app, config, build.sha, (line) =>
        this.appendLog(build, idx, Buffer.from(`${line}\n`)),
      );
      if ('error' in pushed) {
        const failed = await this.fail(build, lease, pushed.error, 1, false, () =>
          this.imageStepEnd(build, idx, 'failed', `gantry: ${pushed.error}`, f.tail),
        );
        if (!failed) throw lost(build);
        return (await this.d.builds.find(build.id))!;
      }
      if (f.digest !== undefined && f.digest !== pushed.digest)
        throw new InvalidInput(
          `the agent says it pushed ${f.digest}, but the registry has ${pushed.digest} for ${pushed.reference.split('@')[0]}:${build.sha}; the registry's digest is the one recorded, and it does not match`,
        );
      made = { kind: 'image', ...pushed };
      step = { idx, line: `gantry: the registry has ${made.reference} (${made.size} bytes)`, tail: f.tail };
    } else {
      if (!(await this.d.blobs.has(f.digest)))
        throw new InvalidInput(`no artifact ${f.digest} was uploaded for build ${build.id}; upload it first`);
      made = { kind: 'tarball', digest: f.digest, size: f.size, reference: null };
    }
    const artifact = await this.succeed(build, lease, made, step);
    if (step) {
      await this.event(build, 'build.step.finished', {
        idx,
        name: 'image',
        status: 'succeeded',
        exitCode: 0,
      });
    }
    await this.d.events.append({
      type: 'artifact.created',
      appId: build.appId,
      subject: artifact.id,
      actor: 'runner',
      data: { sha: build.sha, buildId: build.id, ...made },
    });
    await this.event(build, 'build.succeeded', {
      sha: build.sha,
      artifactId: artifact.id,
      digest: made.digest,
      kind: made.kind,
    });
    void this.d.service.pushBuildSucceeded(build).catch((err: unknown) => {
      this.d.logger.error({ err, build: build.id }, 'auto-deploy after the build failed');
    });
    return (await this.d.builds.find(build.id))!;
  }

  /** 409 unless the build is still running under `lease` (a read: nothing is written). */
  private async stillLeased(build: Build, lease: string): Promise<void> {
    const row = await this.d.db
      .selectFrom('builds')
      .select(['status', 'runner_id'])
      .where('id', '=', build.id)
      .executeTakeFirst();
    if (row?.status !== 'running' || row.runner_id !== lease) throw lost(build);
  }

  /**
   * In one transaction: the build taken as succeeded under `lease` (the first write: a lost lease
   * rolls back before anything else is written, 409), its artifact recorded and linked, and the
   * image step ended. Nobody sees the build succeeded without its artifact.
   */
  private async succeed(
    build: Build,
    lease: string,
    made: { kind: 'tarball' | 'image'; digest: string; size: number; reference: string | null },
    step: { idx: number; line: string; tail: string | undefined } | null,
  ) {
    return this.d.db.transaction().execute(async (trx) => {
      const now = nowIso();
      const res = await trx
        .updateTable('builds')
        .set({ status: 'succeeded', finished_at: now, exit_code: 0, error: null })
        .where('id', '=', build.id)
        .where('status', '=', 'running')
        .where('runner_id', '=', lease)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) throw lost(build);
      // In the log before anyone can see the build succeeded.
      if (step) await this.appendLog(build, step.idx, Buffer.from(`${step.line}\n`));
      const artifact = await this.d.artifacts.insertCurrent(
        { appId: build.appId, sha: build.sha, buildId: build.id, ...made },
        trx,
      );
      await trx.updateTable('builds').set({ artifact_id: artifact.id }).where('id', '=', build.id).execute();
      if (step)
        await trx
          .updateTable('build_steps')
          .set({
            status: 'succeeded',
            finished_at: now,
            exit_code: 0,
            log_tail: tailWith(step.tail, step.line),
          })
          .where('build_id', '=', build.id)
          .where('idx', '=', step.idx)
          .execute();
      return artifact;
    });
  }

  /** The image the agent pushed, as the registry has it; an error saying why not otherwise. */
  private async pushedImage(
    app: AppRecord,
    config: GantryYaml,
    sha: string,
    log: (line: string) => Promise<void>,
  ): Promise<{ digest: string; size: number; reference: string } | { error: string }> {
    try {
      const { registry, repository } = await this.imageTarget(app, config);
      const delays = this.d.registryRetryMs ?? [1000, 2000, 4000, 8000];
      const made = await withRegistryRetries(
        () => recordedImage(registry, repository, sha),
        delays,
        (e, wait, attempt) =>
          log(
            `gantry: reading ${repository}:${sha} failed (${e.message}); attempt ${attempt + 1} of ${delays.length + 1} in ${wait / 1000} s`,
          ),
      ).catch((e: unknown) => {
        throw new Error(`the server cannot read the image the agent pushed: ${(e as Error).message}`);
      });
      if (!made)
        return {
          error: `${registry.label} does not have ${repository}:${sha} after the agent's push; the agent's engine pushed it somewhere else or not at all (check its registry login and the registry it reaches)`,
        };
      return made;
    } catch (e) {
      return { error: (e as Error).message };
    }
  }

  /**
   * A build past its SLO is flagged once, as the servers' runners do at the SLO's timer: here at the
   * first heartbeat past it (a second at most late). The agent itself stops it at twice the SLO.
   */
  private async flagSlo(build: Build): Promise<void> {
    if (build.sloBreached || !build.startedAt || Date.now() - Date.parse(build.startedAt) <= build.sloMs)
      return;
    const res = await this.d.db
      .updateTable('builds')
      .set({ slo_breached: 1 })
      .where('id', '=', build.id)
      .where('slo_breached', '=', 0)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1)
      await this.event(build, 'build.slo_breached', { sloMs: build.sloMs });
  }

  /** The image step's end, which the server writes: its result is the registry's, not the agent's. */
  private async imageStepEnd(
    build: Build,
    idx: number,
    status: 'succeeded' | 'failed',
    line: string,
    tail: string | undefined,
  ): Promise<void> {
    await this.appendLog(build, idx, Buffer.from(`${line}\n`));
    const exitCode = status === 'succeeded' ? 0 : 1;
    await this.d.builds.updateStep(build.id, idx, {
      status,
      finishedAt: nowIso(),
      exitCode,
      logTail: tailWith(tail, line),
    });
    await this.event(build, 'build.step.finished', { idx, name: 'image', status, exitCode });
  }

  /** Fails the build while `lease` holds it; false when the lease was lost (nothing written). */
  private async fail(
    build: Build,
    lease: string,
    error: string,
    exitCode: number | null,
    cancelled = false,
    /** Written once the build is failed under the lease, before its failure is announced. */
    then?: () => Promise<void>,
  ): Promise<boolean> {
    const res = await this.d.db
      .updateTable('builds')
      .set({
        status: cancelled ? 'cancelled' : 'failed',
        finished_at: nowIso(),
        exit_code: exitCode,
        error,
        artifact_id: null,
      })
      .where('id', '=', build.id)
      .where('status', '=', 'running')
      .where('runner_id', '=', lease)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return false;
    await then?.();
    await this.d.db
      .updateTable('build_steps')
      .set({ status: 'skipped' })
      .where('build_id', '=', build.id)
      .where('status', '=', 'pending')
      .execute();
    await this.d.builds.interruptRunningSteps(build.id);
    await this.event(build, cancelled ? 'build.cancelled' : 'build.failed', {
      sha: build.sha,
      error,
      exitCode,
    });
    return true;
  }

  private event(b: Build, type: Parameters<EventStore['append']>[0]['type'], data: Record<string, unknown>) {
    return this.d.events.append({ type, appId: b.appId, subject: b.id, actor: 'runner', data });
  }
}

function lost(build: Build): Conflict {
  return new Conflict(`the lease on build ${build.id} is lost; drop the job`);
}

/** The agent's tail of a step's log with the server's own last line. */
function tailWith(tail: string | undefined, line: string): string {
  return [...(tail ? tail.split('\n') : []), line].slice(-20).join('\n');
}
