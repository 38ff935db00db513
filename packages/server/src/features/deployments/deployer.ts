import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Deployment, DeploymentPhase, EventType } from '@gantry/contracts';
import { isRollbackTrigger } from '@gantry/contracts';
import type { DriverContext, DriverEvent, EnvironmentSpec, Release } from '@gantry/driver-api';
import type { Logger } from 'pino';
import type { EventStore } from '../../events/event-store.js';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../apps/app-store.js';
import type { ArtifactService } from '../artifacts/artifact-service.js';
import { environmentOf, toEnvironmentSpec } from '../environments/environment-specs.js';
import type { EnvironmentStore } from '../environments/environment-store.js';
import { isRetry, retryReason } from './deployment-retry.js';
import type { DeploymentService } from './deployment-service.js';
import type { DeploymentStore } from './deployment-store.js';
import type { DriverRegistry } from './driver-registry.js';

export interface DeployerDeps {
  deployments: DeploymentStore;
  envs: EnvironmentStore;
  service: DeploymentService;
  apps: AppService;
  artifacts: ArtifactService;
  drivers: DriverRegistry;
  events: EventStore;
  logger: Logger;
  dataDir: string;
  /** Told when a deployment starts and when it succeeded (the post-deploy checks). */
  hooks?: DeploymentHooks;
}

/** What happens around a deployment, from outside this folder (features/checks). */
export interface DeploymentHooks {
  /** A deployment of the environment starts: checks still running against the one before stop. */
  started(dep: Deployment): void;
  /** The deployment succeeded and serves (its record as stored). */
  succeeded(dep: Deployment): Promise<void>;
}

/**
 * Runs queued deployments, one at a time per environment (a guarded slot on the environment row),
 * environments in parallel. On start it marks what a dead server left running as interrupted and
 * makes every environment serve its last healthy release again.
 */
export class Deployer {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private stopped = false;
  private wake: () => void = () => {};
  private loopDone?: Promise<void>;
  private readonly active = new Map<string, { ac: AbortController; done: Promise<void> }>();

  constructor(private readonly d: DeployerDeps) {}

  async start(): Promise<void> {
    await this.recover();
    this.d.service.onQueued(() => this.wake());
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loopDone;
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
  }

  workdir(app: string, env: string): string {
    return join(this.d.dataDir, 'envs', app, env);
  }

  /** The environment as the driver sees it, from gantry.yaml at `sha`. */
  async specFor(
    app: AppRecord,
    env: string,
    sha: string,
  ): Promise<{ spec: EnvironmentSpec; driver: string }> {
    const config = await this.d.service.configAt(app, sha);
    const envConfig = environmentOf(config, env);
    if (!config || !envConfig)
      throw new Error(`environment "${env}" is not declared in gantry.yaml at ${sha.slice(0, 12)}`);
    const record = await this.d.service.environment(app, env);
    return {
      spec: toEnvironmentSpec(app.name, env, envConfig, config, record.port),
      driver: envConfig.driver,
    };
  }

  context(app: AppRecord, env: string, signal: AbortSignal, onPhase: (p: string) => void): DriverContext {
    const log = this.d.logger.child({ app: app.name, env });
    return {
      logger: {
        info: (msg, data) => log.info(data ?? {}, msg),
        warn: (msg, data) => log.warn(data ?? {}, msg),
        error: (msg, data) => log.error(data ?? {}, msg),
      },
      signal,
      workdir: this.workdir(app.name, env),
      phase: onPhase,
      report: (e: DriverEvent) =>
        void this.driverEvent(app, env, e).catch((err: unknown) =>
          log.warn({ err, event: e.type }, 'could not record a driver event'),
        ),
    };
  }

  private async driverEvent(app: AppRecord, env: string, e: DriverEvent): Promise<void> {
    const type: EventType =
      e.type === 'crashed'
        ? 'environment.app_crashed'
        : e.type === 'restarted'
          ? 'environment.app_restarted'
          : 'environment.app_gave_up';
    await this.d.events.append({ type, appId: app.id, subject: env, actor: 'driver', data: { ...e } });
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        for (const { appId, env } of await this.d.deployments.queuedEnvironments()) {
          const key = `${appId}/${env}`;
          if (this.active.has(key)) continue;
          const next = (await this.d.deployments.queued(appId, env))[0];
          if (!next) continue;
          const record = await this.d.envs.find(appId, env);
          if (!record || record.lock || record.activeDeploymentId) continue;
          if (!(await this.d.envs.claimSlot(record.id, next.id))) continue;
          if (!(await this.d.deployments.start(next.id, this.id))) {
            await this.d.envs.releaseSlot(record.id, next.id);
            continue;
          }
          const ac = new AbortController();
          const done = this.execute(next, ac.signal)
            .catch((err: unknown) => this.d.logger.error({ err }, 'deployment crashed'))
            .finally(async () => {
              await this.releaseSlot(record.id, next.id);
              this.active.delete(key);
              this.wake();
            });
          this.active.set(key, { ac, done });
        }
      } catch (err) {
        this.d.logger.error({ err }, 'the deployment loop failed; retrying');
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 500);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Frees the environment's slot; a lost database connection is retried, or the slot stays taken for good. */
  private async releaseSlot(envId: string, deploymentId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return void (await this.d.envs.releaseSlot(envId, deploymentId));
      } catch (err) {
        if (attempt >= 10) {
          this.d.logger.error(
            { err, deployment: deploymentId },
            'could not free the environment; restart the server',
          );
          return;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private async execute(dep: Deployment, signal: AbortSignal): Promise<void> {
    const app = await this.d.apps.getById(dep.appId);
    const phases: DeploymentPhase[] = [];
    let lastPhaseAt = Date.now();
    const closePhase = () => {
      const last = phases.at(-1);
      if (last && last.ms === null) last.ms = Date.now() - lastPhaseAt;
    };
    const onPhase = (name: string) => {
      closePhase();
      lastPhaseAt = Date.now();
      phases.push({ name, startedAt: new Date(lastPhaseAt).toISOString(), ms: null });
      const lost = (err: unknown) =>
        this.d.logger.warn({ err, deployment: dep.id }, 'could not record a phase');
      void this.d.deployments.setPhases(dep.id, phases).catch(lost);
      void this.d.events
        .append({
          type: 'deployment.phase',
          appId: app.id,
          subject: dep.id,
          actor: 'deployer',
          data: { env: dep.env, phase: name },
        })
        .catch(lost);
    };
    this.d.hooks?.started(dep);
    await this.d.events.append({
      type: 'deployment.started',
      appId: app.id,
      subject: dep.id,
      actor: 'deployer',
      data: { env: dep.env, sha: dep.sha },
    });
    try {
      const { spec, driver } = await this.specFor(app, dep.env, dep.sha);
      const artifact = await this.d.artifacts.get(dep.artifactId!);
      const release: Release = {
        env: spec,
        sha: dep.sha,
        deploymentId: dep.id,
        artifact: await this.d.artifacts.releaseArtifact(app, artifact),
      };
      const ctx = this.context(app, dep.env, signal, onPhase);
      await mkdir(ctx.workdir, { recursive: true });
      const result = await this.d.drivers.get(driver).deploy(release, ctx);
      closePhase();
      await this.d.deployments.setPhases(dep.id, phases);
      await this.d.deployments.finish(dep.id, { status: 'succeeded', kind: result.kind });
      await this.d.events.append({
        type: 'deployment.succeeded',
        appId: app.id,
        subject: dep.id,
        actor: 'deployer',
        data: {
          env: dep.env,
          sha: dep.sha,
          previousSha: dep.previousSha,
          kind: result.kind,
          url: result.url,
          trigger: dep.trigger,
        },
      });
      if (isRollbackTrigger(dep.trigger) && dep.previousSha) {
        await this.d.service.hold(app, dep.env, dep.previousSha, 'deployer', `rolled back by ${dep.actor}`);
      }
      const done = await this.d.deployments.find(dep.id);
      if (done && this.d.hooks)
        await this.d.hooks
          .succeeded(done)
          .catch((err: unknown) =>
            this.d.logger.error({ err, deployment: dep.id }, 'could not start the checks'),
          );
    } catch (e) {
      closePhase();
      await this.d.deployments.setPhases(dep.id, phases);
      const error = e instanceof Error ? e.message : String(e);
      await this.d.deployments.finish(dep.id, { status: 'failed', error });
      await this.d.events.append({
        type: 'deployment.failed',
        appId: app.id,
        subject: dep.id,
        actor: 'deployer',
        data: { env: dep.env, sha: dep.sha, error, trigger: dep.trigger },
      });
    }
  }

  /** Stops every environment's releases and proxy (tests, and `gantry` uninstall); they keep running otherwise. */
  async stopAllEnvironments(): Promise<void> {
    for (const record of await this.d.envs.list()) {
      const app = await this.d.apps.getById(record.appId);
      // An environment whose deployments all failed may still have a proxy or a release running.
      const ref =
        (await this.d.deployments.lastSucceeded(app.id, record.name)) ??
        (await this.d.deployments.list({ appId: app.id, env: record.name, limit: 1 }))[0];
      const sha = ref?.sha ?? app.headSha;
      if (!sha) continue;
      try {
        const { spec, driver } = await this.specFor(app, record.name, sha);
        await this.d.drivers.get(driver).stop(
          spec,
          this.context(app, record.name, new AbortController().signal, () => {}),
        );
      } catch (err) {
        this.d.logger.warn({ err, app: app.name, env: record.name }, 'could not stop the environment');
      }
    }
  }

  /**
   * After a restart: each deployment the dead server left running is recorded `interrupted`, each
   * environment is reconciled with what its driver says serves it (a deployment that switched over
   * before the server died is kept, not switched back), and an interrupted deployment is run again
   * once when it is still the newest request for its environment.
   */
  async recover(): Promise<void> {
    const interrupted = new Map<string, Deployment>();
    for (const dep of await this.d.deployments.running()) {
      if (
        !(await this.d.deployments.finish(dep.id, {
          status: 'interrupted',
          error: 'the server stopped mid-deployment',
        }))
      )
        continue;
      const key = `${dep.appId}/${dep.env}`;
      if (!interrupted.has(key) || interrupted.get(key)!.id < dep.id) interrupted.set(key, dep);
    }
    await this.d.envs.releaseStaleSlots();
    for (const record of await this.d.envs.list()) {
      const cut = interrupted.get(`${record.appId}/${record.name}`);
      try {
        const app = await this.d.apps.getById(record.appId);
        const serving = await this.reconcile(app, record.name, cut);
        if (!cut) continue;
        await this.d.events.append({
          type: 'deployment.interrupted',
          appId: cut.appId,
          subject: cut.id,
          actor: 'deployer',
          data: { env: cut.env, sha: cut.sha, serving: serving ?? null },
        });
        await this.retry(app, cut);
      } catch (err) {
        this.d.logger.error(
          { err, env: record.name, deployment: cut?.id },
          'recovering the environment failed',
        );
      }
    }
  }

  /**
   * Makes the environment serve what it should after a restart: what the driver says serves it when
   * that is the interrupted deployment's release (it got that far), else its last healthy release.
   * Returns the SHA the driver reported serving before, when it could tell.
   */
  private async reconcile(app: AppRecord, env: string, cut?: Deployment): Promise<string | undefined> {
    const last = await this.d.deployments.lastSucceeded(app.id, env);
    let reported: string | undefined;
    try {
      const probe = last ?? cut;
      if (probe) {
        const { spec, driver } = await this.specFor(app, env, probe.sha);
        const ctx = this.context(app, env, AbortSignal.timeout(10_000), () => {});
        const health = await this.d.drivers.get(driver).health(spec, ctx);
        if (health.healthy && health.sha) reported = health.sha;
      }
    } catch (err) {
      this.d.logger.warn({ err, app: app.name, env }, 'could not ask the driver what serves the environment');
    }
    const target = cut?.artifactId && reported === cut.sha ? cut : last;
    if (!target?.artifactId) return reported;
    try {
      const { spec, driver } = await this.specFor(app, env, target.sha);
      const d = this.d.drivers.get(driver);
      if (!d.restore) return reported;
      const artifact = await this.d.artifacts.get(target.artifactId);
      const ctx = this.context(app, env, new AbortController().signal, () => {});
      await mkdir(ctx.workdir, { recursive: true });
      await d.restore(
        spec,
        {
          env: spec,
          sha: target.sha,
          deploymentId: target.id,
          artifact: await this.d.artifacts.releaseArtifact(app, artifact),
        },
        ctx,
      );
    } catch (err) {
      this.d.logger.error({ err, app: app.name, env }, 'could not restore the environment');
    }
    return reported;
  }

  /** Requests the interrupted deployment again, once, unless a newer request for the environment exists. */
  private async retry(app: AppRecord, cut: Deployment): Promise<void> {
    if (isRetry(cut)) return;
    const recent = await this.d.deployments.list({ appId: app.id, env: cut.env, limit: 100 });
    if (recent.some((d) => d.id > cut.id && d.status !== 'rejected')) return;
    await this.d.service.request({
      app,
      env: cut.env,
      sha: cut.sha,
      trigger: cut.trigger,
      actor: 'deployer',
      reason: retryReason(cut),
      tag: cut.tag,
      force: cut.forced,
      remediates: cut.remediates,
      // The person who asked for it confirmed it already.
      confirmed: true,
    });
  }
}
