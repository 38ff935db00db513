import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CheckConfig,
  checkKind,
  type Deployment,
  type GantryEnvironment,
  isRollbackTrigger,
  type VerificationStatus,
} from '@gantry/contracts';
import type { TrafficReport } from '@gantry/driver-api';
import type { Logger } from 'pino';
import type { EventStore } from '../../events/event-store.js';
import type { Sandbox } from '../../sandbox/host-sandbox.js';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../apps/app-store.js';
import type { SecretMasker } from '../secrets/secret-masker.js';
import type { CheckStore } from './check-store.js';
import { type CheckOutcome, type CheckTarget, runCheck } from './run-check.js';

/** How Gantry reaches an environment's release: its address, its driver, its traffic. */
export interface EnvironmentAccess {
  url: string;
  driver: string;
  traffic?: (sinceMs: number) => Promise<TrafficReport>;
}

/** What a failed verification did about it, for whoever acts next (the revert). */
export interface CheckFailure {
  deployment: Deployment;
  check: string;
  error: string;
  /** The auto-rollback it asked for, when it rolled back. */
  rollback: Deployment | null;
  incidentId: string | null;
}

export interface VerifierDeps {
  deployments: {
    find(id: string): Promise<Deployment | undefined>;
    setVerification(
      id: string,
      status: VerificationStatus,
      from?: VerificationStatus | null,
    ): Promise<boolean>;
    verifying(): Promise<Deployment[]>;
    lastSucceeded(appId: string, env: string): Promise<Deployment | undefined>;
  };
  checks: CheckStore;
  events: EventStore;
  apps: Pick<AppService, 'getById' | 'mirrorOf'>;
  /** gantry.yaml's environment at a SHA. */
  environmentAt(app: AppRecord, env: string, sha: string): Promise<GantryEnvironment | undefined>;
  access(app: AppRecord, env: string, sha: string): Promise<EnvironmentAccess>;
  /** Rolls the environment back through the same path as `gantry rollback`, trigger `auto-rollback`. */
  rollback(app: AppRecord, env: string, reason: string): Promise<Deployment>;
  openIncident(r: {
    app: string;
    env: string;
    deploymentId: string;
    title: string;
    actor: string;
  }): Promise<{ id: string }>;
  sandbox: Sandbox;
  dataDir: string;
  logger: Logger;
  /** Masks the environment's secret values in check output and errors (features/secrets). */
  secrets: { maskerFor(app: AppRecord, env: string): Promise<SecretMasker> };
}

const ACTOR = 'gantry:checks';

/**
 * Runs an environment's post-deploy checks against each deployment that succeeded there: the
 * deployment is `verifying`, then `verified`, or `check_failed` at the first check that still fails
 * after its retries (a check that fails once and then passes is a flake, not a failure). A newer
 * deployment of the environment cuts the checks short (`superseded`). On a failure of a change
 * (not of a rollback, which has nowhere to go back to), `on_check_failure: rollback` switches back
 * through the rollback path and an incident is opened.
 */
export class Verifier {
  private readonly active = new Map<
    string,
    { deploymentId: string; ac: AbortController; done: Promise<unknown> }
  >();
  private readonly failedListeners: ((f: CheckFailure) => Promise<void> | void)[] = [];
  private readonly endListeners: ((d: Deployment, status: VerificationStatus) => void)[] = [];
  private stopped = false;

  constructor(private readonly d: VerifierDeps) {}

  /** Called after a verification ends with check_failed and Gantry acted on it. */
  onCheckFailed(listener: (f: CheckFailure) => Promise<void> | void): void {
    this.failedListeners.push(listener);
  }

  /** Called when a verification ends in any way (the revert waits on these). */
  onVerificationEnd(listener: (d: Deployment, status: VerificationStatus) => void): void {
    this.endListeners.push(listener);
  }

  /** The checks this deployment's environment declares at its SHA; [] when none. */
  async checksOf(dep: Deployment): Promise<CheckConfig[]> {
    const app = await this.d.apps.getById(dep.appId);
    return (await this.d.environmentAt(app, dep.env, dep.sha))?.checks ?? [];
  }

  /**
   * Starts the checks of a deployment that just succeeded, in the background. Returns false when
   * its environment declares none (the deployment stays without a verification). The deployer
   * finishes such a deployment as `verifying` already; one finished without it is marked here.
   */
  async begin(dep: Deployment): Promise<boolean> {
    if (this.stopped) return false;
    const checks = await this.checksOf(dep);
    if (checks.length === 0) return false;
    if (
      dep.verification !== 'verifying' &&
      !(await this.d.deployments.setVerification(dep.id, 'verifying', null))
    )
      return false;
    await this.d.events.append({
      type: 'deployment.verifying',
      appId: dep.appId,
      subject: dep.id,
      actor: ACTOR,
      data: { env: dep.env, sha: dep.sha, checks: checks.map((c) => c.name) },
    });
    this.launch(dep, checks);
    return true;
  }

  /** A newer deployment of the environment is starting: the checks of the one before stop. */
  supersede(appId: string, env: string, byId: string): void {
    const running = this.active.get(`${appId}/${env}`);
    if (running && running.deploymentId !== byId) running.ac.abort(new Superseded(byId));
  }

  /**
   * After a restart: runs that a stopped server left are cancelled, and the checks of each
   * deployment still `verifying` run again from the start when it still serves its environment;
   * otherwise it is `superseded`.
   */
  async recover(): Promise<void> {
    for (const run of await this.d.checks.running()) {
      await this.d.checks.finish(run.id, {
        status: 'cancelled',
        output: run.output,
        error: 'the server stopped during the check',
      });
    }
    for (const dep of await this.d.deployments.verifying()) {
      const current = await this.d.deployments.lastSucceeded(dep.appId, dep.env);
      if (current?.id !== dep.id) {
        await this.end(dep, 'superseded', {
          reason: 'a newer deployment replaced it while the server was stopped',
        });
        continue;
      }
      const checks = await this.checksOf(dep);
      this.d.logger.info({ deployment: dep.id }, 'running the checks a stopped server cut short again');
      this.launch(dep, checks);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const a of this.active.values()) a.ac.abort(new Error('the server is stopping'));
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
  }

  /** Resolves when no checks run (tests, and the revert's waits). */
  async idle(): Promise<void> {
    while (this.active.size) await Promise.allSettled([...this.active.values()].map((a) => a.done));
  }

  private launch(dep: Deployment, checks: CheckConfig[]): void {
    const key = `${dep.appId}/${dep.env}`;
    this.active.get(key)?.ac.abort(new Superseded(dep.id));
    const ac = new AbortController();
    const done = this.run(dep, checks, ac.signal)
      .catch((err: unknown) => this.d.logger.error({ err, deployment: dep.id }, 'the checks crashed'))
      .finally(() => {
        if (this.active.get(key)?.ac === ac) this.active.delete(key);
      });
    this.active.set(key, { deploymentId: dep.id, ac, done });
  }

  private async run(dep: Deployment, checks: CheckConfig[], signal: AbortSignal): Promise<void> {
    const app = await this.d.apps.getById(dep.appId);
    const work = join(this.d.dataDir, 'work', 'checks', dep.id);
    const logDir = join(this.d.dataDir, 'logs', 'checks', dep.id);
    let worktree: Promise<string> | undefined;
    const mirror = this.d.apps.mirrorOf(app);
    try {
      const access = await this.d.access(app, dep.env, dep.sha);
      await mkdir(logDir, { recursive: true, mode: 0o700 });
      const target: CheckTarget = {
        app: app.name,
        env: dep.env,
        sha: dep.sha,
        url: access.url,
        previousSha: dep.previousSha,
        servingSinceMs: Date.parse(dep.finishedAt ?? dep.requestedAt),
        worktree: () => {
          worktree ??= (async () => {
            await rm(work, { recursive: true, force: true });
            await mkdir(join(this.d.dataDir, 'work', 'checks'), { recursive: true });
            await mirror.addWorktree(dep.sha, work);
            return work;
          })();
          return worktree;
        },
        logDir,
        sandbox: this.d.sandbox,
        traffic: access.traffic,
        driver: access.driver,
        mask: await this.d.secrets.maskerFor(app, dep.env),
      };
      for (const check of checks) {
        const failed = await this.runWithRetries(dep, check, target, signal);
        if (signal.aborted) break;
        if (failed) return await this.failed(app, dep, check, failed.error ?? 'failed');
      }
      if (signal.aborted) {
        const reason = signal.reason;
        if (reason instanceof Superseded) await this.end(dep, 'superseded', { by: reason.by });
        return; // the server stops: `recover` runs the checks again
      }
      await this.end(dep, 'verified', {});
    } catch (e) {
      if (signal.aborted && signal.reason instanceof Superseded) {
        await this.end(dep, 'superseded', { by: signal.reason.by });
        return;
      }
      if (signal.aborted) return;
      const error = `the checks could not run: ${e instanceof Error ? e.message : String(e)}`;
      this.d.logger.error({ err: e, deployment: dep.id }, error);
      // Recorded as a run of the first check, so `gantry checks` shows why.
      const check = checks[0]!;
      const run = await this.d.checks.start({
        deploymentId: dep.id,
        name: check.name,
        kind: checkKind(check),
        attempt: 1,
      });
      await this.d.checks.finish(run.id, { status: 'failed', output: '', error });
      await this.failed(app, dep, check, error);
    } finally {
      if (worktree) await mirror.removeWorktree(work).catch(() => undefined);
    }
  }

  /** Runs a check until it passes or its retries are used up; the last failure, or null when it passed. */
  private async runWithRetries(
    dep: Deployment,
    check: CheckConfig,
    target: CheckTarget,
    signal: AbortSignal,
  ): Promise<CheckOutcome | null> {
    let last: CheckOutcome | null = null;
    for (let attempt = 1; attempt <= check.retries + 1; attempt++) {
      if (signal.aborted) return null;
      const run = await this.d.checks.start({
        deploymentId: dep.id,
        name: check.name,
        kind: checkKind(check),
        attempt,
      });
      const ran = await runCheck(check, target, signal);
      const mask = (text: string) => target.mask?.text(text) ?? text;
      const outcome = { ...ran, output: mask(ran.output), error: ran.error && mask(ran.error) };
      const status = signal.aborted ? 'cancelled' : outcome.passed ? 'passed' : 'failed';
      const error = signal.aborted ? cancelledWhy(signal.reason) : outcome.error;
      const done = await this.d.checks.finish(run.id, { status, output: outcome.output, error });
      await this.d.events.append({
        type: 'check.finished',
        appId: dep.appId,
        subject: dep.id,
        actor: ACTOR,
        data: {
          env: dep.env,
          sha: dep.sha,
          check: check.name,
          kind: checkKind(check),
          attempt,
          status,
          error,
          ms: done?.ms ?? null,
          ...(outcome.passed && attempt > 1 && { flaky: true }),
        },
      });
      if (status === 'cancelled') return null;
      if (outcome.passed) return null;
      last = outcome;
    }
    return last;
  }

  private async failed(app: AppRecord, dep: Deployment, check: CheckConfig, error: string): Promise<void> {
    const envConfig = await this.d.environmentAt(app, dep.env, dep.sha);
    const isChange = !isRollbackTrigger(dep.trigger) && dep.trigger !== 'bisect';
    const wanted = envConfig?.on_check_failure ?? 'rollback';
    const canRollBack =
      isChange && wanted === 'rollback' && dep.previousSha !== null && dep.previousSha !== dep.sha;
    const action = !isChange ? 'none' : canRollBack ? 'rollback' : 'keep';
    if (!(await this.d.deployments.setVerification(dep.id, 'check_failed', 'verifying'))) return;
    await this.d.events.append({
      type: 'deployment.check_failed',
      appId: dep.appId,
      subject: dep.id,
      actor: ACTOR,
      data: { env: dep.env, sha: dep.sha, check: check.name, error, action },
    });
    let rollback: Deployment | null = null;
    let incidentId: string | null = null;
    if (isChange) {
      const still = (await this.d.deployments.lastSucceeded(dep.appId, dep.env))?.id === dep.id;
      if (canRollBack && still) {
        try {
          rollback = await this.d.rollback(
            app,
            dep.env,
            `check "${check.name}" failed on ${dep.sha.slice(0, 12)}: ${error}`,
          );
        } catch (err) {
          this.d.logger.error({ err, deployment: dep.id }, 'the automatic rollback could not be requested');
        }
      }
      try {
        const what = rollback
          ? `; rolled back to ${rollback.sha.slice(0, 12)}`
          : wanted === 'keep'
            ? '; kept running (on_check_failure: keep)'
            : '';
        incidentId = (
          await this.d.openIncident({
            app: app.name,
            env: dep.env,
            deploymentId: dep.id,
            title: `check "${check.name}" failed on ${dep.sha.slice(0, 12)}: ${error}`.slice(0, 180) + what,
            actor: ACTOR,
          })
        ).id;
      } catch (err) {
        this.d.logger.error({ err, deployment: dep.id }, 'could not open an incident for a failed check');
      }
    }
    const failure: CheckFailure = {
      deployment: { ...dep, verification: 'check_failed' },
      check: check.name,
      error,
      rollback,
      incidentId,
    };
    for (const l of this.endListeners) l(failure.deployment, 'check_failed');
    for (const listener of this.failedListeners) {
      await Promise.resolve(listener(failure)).catch((err: unknown) =>
        this.d.logger.error({ err, deployment: dep.id }, 'acting on a failed check failed'),
      );
    }
  }

  private async end(
    dep: Deployment,
    status: 'verified' | 'superseded',
    data: Record<string, unknown>,
  ): Promise<void> {
    if (!(await this.d.deployments.setVerification(dep.id, status, 'verifying'))) return;
    if (status === 'verified')
      await this.d.events.append({
        type: 'deployment.verified',
        appId: dep.appId,
        subject: dep.id,
        actor: ACTOR,
        data: { env: dep.env, sha: dep.sha, ...data },
      });
    for (const l of this.endListeners) l({ ...dep, verification: status }, status);
  }
}

class Superseded extends Error {
  constructor(readonly by: string) {
    super(`superseded by ${by}`);
  }
}

function cancelledWhy(reason: unknown): string {
  if (reason instanceof Superseded) return `cut short: ${reason.by} replaced the release`;
  return reason instanceof Error ? reason.message : 'cancelled';
}
