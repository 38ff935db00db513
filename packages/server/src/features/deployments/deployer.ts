import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Deployment, DeploymentPhase } from '@gantry/contracts';
import { isRollbackTrigger } from '@gantry/contracts';
import type { DriverContext, DriverEvent, EnvironmentSpec, Release } from '@gantry/driver-api';
import type { Logger } from 'pino';
import type { EventStore } from '../../events/event-store.js';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../apps/app-store.js';
import type { ArtifactService } from '../artifacts/artifact-service.js';
import { environmentOf, toEnvironmentSpec } from '../environments/environment-specs.js';
import type { EnvironmentStore, SlotLease } from '../environments/environment-store.js';
import { NO_MASK, SecretMasker } from '../secrets/secret-masker.js';
import { isRetry, retryReason } from './deployment-retry.js';
import type { DeploymentService } from './deployment-service.js';
import type { DeploymentStore } from './deployment-store.js';
import { driverEventType } from './driver-events.js';
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
  /**
   * How long an environment's slot stays leased to this server without a renewal (default 10 s;
   * renewed every third of it). Another server takes an environment over once its lease ended.
   */
  leaseMs?: number;
  /** Told when a deployment starts and when it succeeded (the post-deploy checks). */
  hooks?: DeploymentHooks;
  /** The values of `environments.<env>.secrets` for a release (features/secrets). */
  secrets: {
    secretsFor(
      app: AppRecord,
      env: string,
      names: readonly string[],
      opts?: { bestEffort?: boolean },
    ): Promise<Record<string, string>>;
  };
}

/** What happens around a deployment, from outside this folder (features/checks). */
export interface DeploymentHooks {
  /** A deployment of the environment starts: checks still running against the one before stop. */
  started(dep: Deployment): void;
  /** Whether the deployment's environment declares checks at its SHA (it finishes as `verifying`). */
  hasChecks(dep: Deployment): Promise<boolean>;
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
  private readonly active = new Map<
    string,
    { ac: AbortController; done: Promise<void>; envId: string; deploymentId: string }
  >();
  private renewals?: NodeJS.Timeout;
  private lastSweep = 0;

  constructor(private readonly d: DeployerDeps) {}

  private get lease(): SlotLease {
    return { owner: this.id, ttlMs: this.d.leaseMs ?? 10_000 };
  }

  async start(): Promise<void> {
    this.renewals = setInterval(() => void this.renewLeases(), Math.max(100, this.lease.ttlMs / 3));
    await this.recover();
    this.d.service.onQueued(() => this.wake());
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loopDone;
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
    clearInterval(this.renewals);
  }

  /**
   * Renews the lease of every environment this server deploys. One that another server took over
   * (this server was paused or cut off for longer than the lease) stops here; its switch would be
   * refused anyway, since the fence grew.
   */
  private async renewLeases(): Promise<void> {
    for (const a of this.active.values()) {
      const held = await this.d.envs.renewSlot(a.envId, a.deploymentId, this.lease).catch((err: unknown) => {
        this.d.logger.warn({ err, deployment: a.deploymentId }, 'could not renew the environment lease');
        return true;
      });
      if (!held && !a.ac.signal.aborted)
        a.ac.abort(new Error('another server took the environment over: this server held it past its lease'));
    }
  }

  workdir(app: string, env: string): string {
    return join(this.d.dataDir, 'envs', app, env);
  }

  /**
   * The environment as the driver sees it, from gantry.yaml at `sha`. With `secrets` (to start a
   * release) it carries the declared secrets, failing when one is not set; a `command` environment
   * always carries those that are set, since its health and stop scripts may need them too.
   */
  async specFor(
    app: AppRecord,
    env: string,
    sha: string,
    opts: { secrets?: boolean } = {},
  ): Promise<{ spec: EnvironmentSpec; driver: string }> {
    const config = await this.d.service.configAt(app, sha);
    const envConfig = environmentOf(config, env);
    if (!config || !envConfig)
      throw new Error(`environment "${env}" is not declared in gantry.yaml at ${sha.slice(0, 12)}`);
    const record = await this.d.service.environment(app, env);
    const spec = toEnvironmentSpec(app.name, env, envConfig, config, record.port);
    if (envConfig.secrets?.length && (opts.secrets || envConfig.driver === 'command'))
      spec.secrets = await this.d.secrets.secretsFor(app, env, envConfig.secrets, {
        bestEffort: !opts.secrets,
      });
    return { spec, driver: envConfig.driver };
  }

  context(
    app: AppRecord,
    env: string,
    signal: AbortSignal,
    onPhase: (p: string) => void,
    mask: SecretMasker = NO_MASK,
    fence?: number,
  ): DriverContext {
    const log = this.d.logger.child({ app: app.name, env });
    return {
      ...(fence === undefined ? {} : { fence }),
      logger: {
        info: (msg, data) => log.info(data ?? {}, mask.text(msg)),
        warn: (msg, data) => log.warn(data ?? {}, mask.text(msg)),
        error: (msg, data) => log.error(data ?? {}, mask.text(msg)),
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
    const type = driverEventType(e.type);
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
          const fence = await this.d.envs.claimSlot(record.id, next.id, this.lease);
          if (fence === null) continue;
          if (!(await this.d.deployments.start(next.id, this.id))) {
            await this.d.envs.releaseSlot(record.id, next.id, this.id);
            continue;
          }
          this.hold(key, record.id, next.id, (signal) => this.execute(next, signal, fence));
        }
        if (Date.now() - this.lastSweep >= Math.min(2_000, this.lease.ttlMs / 2)) {
          this.lastSweep = Date.now();
          await this.takeOverExpired();
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

  /** Runs `work` while this server holds the environment's slot (renewing its lease), then frees it. */
  private hold(
    key: string,
    envId: string,
    deploymentId: string,
    work: (signal: AbortSignal) => Promise<void>,
  ): void {
    const ac = new AbortController();
    const done = work(ac.signal)
      .catch((err: unknown) => this.d.logger.error({ err, deployment: deploymentId }, 'deployment crashed'))
      .finally(async () => {
        await this.releaseSlot(envId, deploymentId);
        this.active.delete(key);
        this.wake();
      });
    this.active.set(key, { ac, done, envId, deploymentId });
  }

  /**
   * Environments whose lease ended (their server died, or was cut off or paused for longer than
   * the lease), or whose owner is a dead process on this host: this server takes the slot over
   * (the fence grows), records the deployment it held as interrupted, makes the environment serve
   * its last healthy release, and asks for the deployment again once.
   */
  private async takeOverExpired(): Promise<void> {
    const now = new Date().toISOString();
    for (const record of await this.d.envs.heldSlots()) {
      const depId = record.activeDeploymentId!;
      const key = `${record.appId}/${record.name}`;
      const owner = record.lease?.owner;
      if (owner === this.id || this.active.has(key)) continue;
      const dead = owner ? deadLocalOwner(owner) : true;
      if (!dead && record.lease && record.lease.expiresAt >= now) continue;
      const fence = await this.d.envs.takeOverSlot(record.id, depId, this.lease, {
        now,
        deadOwner: dead ? owner : undefined,
      });
      if (fence === null) continue;
      this.d.logger.warn(
        { app: record.appId, env: record.name, deployment: depId, from: owner ?? null },
        'taking over an environment whose server stopped renewing its lease',
      );
      this.hold(key, record.id, depId, () =>
        this.recoverEnvironment(record.appId, record.name, depId, fence, owner),
      );
    }
  }

  private async recoverEnvironment(
    appId: string,
    env: string,
    depId: string,
    fence: number,
    from: string | undefined,
  ): Promise<void> {
    const dep = await this.d.deployments.find(depId);
    const cut =
      dep?.status === 'running' &&
      (await this.d.deployments.finish(dep.id, {
        status: 'interrupted',
        error: 'the server stopped mid-deployment',
      }))
        ? dep
        : undefined;
    const app = await this.d.apps.getById(appId);
    const serving = await this.reconcile(app, env, cut, fence);
    if (!cut) return;
    await this.d.events.append({
      type: 'deployment.interrupted',
      appId: cut.appId,
      subject: cut.id,
      actor: 'deployer',
      data: { env: cut.env, sha: cut.sha, serving: serving ?? null, server: from ?? null },
    });
    await this.retry(app, cut);
  }

  /** Frees the environment's slot; a lost database connection is retried, or the slot stays taken for good. */
  private async releaseSlot(envId: string, deploymentId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return void (await this.d.envs.releaseSlot(envId, deploymentId, this.id));
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

  private async execute(dep: Deployment, signal: AbortSignal, fence: number): Promise<void> {
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
      data: { env: dep.env, sha: dep.sha, server: this.id },
    });
    // The values the release gets never reach its logs, its record or its events.
    let mask = NO_MASK;
    try {
      const { spec, driver } = await this.specFor(app, dep.env, dep.sha, { secrets: true });
      mask = new SecretMasker(Object.values(spec.secrets ?? {}));
      const artifact = await this.d.artifacts.get(dep.artifactId!);
      const release: Release = {
        env: spec,
        sha: dep.sha,
        deploymentId: dep.id,
        artifact: await this.d.artifacts.releaseArtifact(app, artifact),
      };
      const ctx = this.context(app, dep.env, signal, onPhase, mask, fence);
      await mkdir(ctx.workdir, { recursive: true });
      const result = await this.d.drivers.for(driver, spec).deploy(release, ctx);
      closePhase();
      await this.d.deployments.setPhases(dep.id, phases);
      const verify = await this.hasChecks(dep);
      await this.d.deployments.finish(dep.id, {
        status: 'succeeded',
        kind: result.kind,
        ...(verify ? { verification: 'verifying' as const } : {}),
      });
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
      const error = mask.text(e instanceof Error ? e.message : String(e));
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

  private async hasChecks(dep: Deployment): Promise<boolean> {
    if (!this.d.hooks) return false;
    return this.d.hooks.hasChecks(dep).catch((err: unknown) => {
      this.d.logger.error({ err, deployment: dep.id }, 'could not read the checks');
      return false;
    });
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
        await this.d.drivers.for(driver, spec).stop(
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
    // Environments whose deployment's server is gone (a dead process on this host, or a lease that
    // ended): taken over now, before anything new starts.
    await this.takeOverExpired();
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
    // A deployment left running without the slot of its environment has no server behind it.
    const held = new Set((await this.d.envs.heldSlots()).map((r) => r.activeDeploymentId));
    const interrupted = new Map<string, Deployment>();
    for (const dep of await this.d.deployments.running()) {
      if (held.has(dep.id)) continue;
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
    // Every environment no server deploys now serves what it should (after a reboot its releases are
    // gone). The restore passes the environment's fence: a deployment claimed meanwhile wins.
    for (const record of await this.d.envs.list()) {
      const cut = interrupted.get(`${record.appId}/${record.name}`);
      if (record.activeDeploymentId && !cut) continue;
      try {
        const app = await this.d.apps.getById(record.appId);
        const serving = await this.reconcile(app, record.name, cut, record.fence);
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
  private async reconcile(
    app: AppRecord,
    env: string,
    cut: Deployment | undefined,
    fence: number,
  ): Promise<string | undefined> {
    const last = await this.d.deployments.lastSucceeded(app.id, env);
    let reported: string | undefined;
    try {
      const probe = last ?? cut;
      if (probe) {
        const { spec, driver } = await this.specFor(app, env, probe.sha);
        const ctx = this.context(app, env, AbortSignal.timeout(10_000), () => {});
        const health = await this.d.drivers.for(driver, spec).health(spec, ctx);
        if (health.healthy && health.sha) reported = health.sha;
      }
    } catch (err) {
      this.d.logger.warn({ err, app: app.name, env }, 'could not ask the driver what serves the environment');
    }
    const target = cut?.artifactId && reported === cut.sha ? cut : last;
    if (!target?.artifactId) return reported;
    try {
      const { spec, driver } = await this.specFor(app, env, target.sha, { secrets: true });
      const d = this.d.drivers.for(driver, spec);
      if (!d.restore) return reported;
      const artifact = await this.d.artifacts.get(target.artifactId);
      const mask = new SecretMasker(Object.values(spec.secrets ?? {}));
      const ctx = this.context(app, env, new AbortController().signal, () => {}, mask, fence);
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

/** A lease owner names its host and pid (host:pid:random); on this host a pid that is gone is a dead owner. */
function deadLocalOwner(owner: string): boolean {
  const [host, pid] = owner.split(':');
  if (host !== hostname() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
