import { join } from 'node:path';
import type { Build, Deployment, GantryYaml, Revert } from '@gantry/contracts';
import type { Logger } from 'pino';
import type { EventStore } from '../../events/event-store.js';
import type { RepoMirror } from '../../git/repo-mirror.js';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../apps/app-store.js';
import type { CheckFailure } from '../checks/verifier.js';
import { retryReason } from '../deployments/deployment-retry.js';
import { isRevertMessage, makeRevertCommit, revertMessage } from './revert-commit.js';
import type { RevertChange, RevertStore } from './revert-store.js';

/** How a deployment Gantry asked for ended: deployed and passed its checks, failed them, or did not deploy. */
type Settled = 'passed' | 'failed' | { notDeployed: string };

export interface ReverterDeps {
  store: RevertStore;
  deployments: {
    find(id: string): Promise<Deployment | undefined>;
    list(q: { appId?: string; env?: string; limit?: number }): Promise<Deployment[]>;
  };
  apps: Pick<AppService, 'getById' | 'mirrorOf'>;
  configAt(app: AppRecord, sha: string): Promise<GantryYaml | undefined>;
  /** The checks declared for a deployment's environment at its SHA (none: nothing to wait for). */
  checksOf(d: Deployment): Promise<unknown[]>;
  deploy(r: {
    app: AppRecord;
    env: string;
    sha: string;
    trigger: 'bisect' | 'auto-rollback';
    reason: string;
  }): Promise<Deployment>;
  hasArtifact(appId: string, sha: string): Promise<boolean>;
  /** Queues a build of `sha` (never a rebuild of one that has an artifact); the build, or null when the artifact exists. */
  build(app: AppRecord, sha: string): Promise<Build | null>;
  findBuild(id: string): Promise<Build>;
  /** Tells Gantry the branch moved (the pushed revert is seen and built at once). */
  ingest(app: AppRecord): Promise<void>;
  openIncident(r: {
    app: string;
    env: string;
    deploymentId: string;
    title: string;
    actor: string;
  }): Promise<{ id: string }>;
  events: EventStore;
  dataDir: string;
  logger: Logger;
  /** How often waits look again (tests and bench: short). */
  pollMs?: number;
}

const ACTOR = 'gantry:revert';
const short = (sha: string) => sha.slice(0, 12);
const FINISHED_BUILD = ['succeeded', 'failed', 'cancelled', 'superseded', 'interrupted'];
const MAX_WAIT_MS = 2 * 3_600_000;

/**
 * Reverts what fails the checks of the auto-deployed environment, safely: only a repeatable
 * failure counts (the checks' retries), the last verified release is deployed back and checked
 * again (if it fails too the environment is broken and nothing is reverted), several new commits
 * are bisected, and the blamed commit is reverted on top of the current main and pushed (`auto`)
 * or pushed to a branch (`propose`). It never reverts a revert, never reverts a commit twice (a
 * database claim per commit), and never acts when a newer commit already passed. Each step is
 * recorded; a restart resumes from the last one.
 */
export class Reverter {
  private readonly chains = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(private readonly d: ReverterDeps) {}

  /** Listens to failed checks (Verifier.onCheckFailed). */
  async onCheckFailed(f: CheckFailure): Promise<void> {
    const dep = f.deployment;
    if (dep.trigger !== 'auto' || this.stopped) return;
    const app = await this.d.apps.getById(dep.appId);
    const config = await this.d.configAt(app, dep.sha);
    const mode = config?.revert.on_check_failure ?? 'propose';
    if (mode === 'off' || !config?.environments[dep.env]?.auto_deploy) return;
    const good = await this.lastVerified(dep);
    const r = await this.d.store.insert({
      appId: dep.appId,
      env: dep.env,
      deploymentId: dep.id,
      sha: dep.sha,
      goodSha: good?.sha ?? null,
      check: f.check,
      mode,
      incidentId: f.incidentId,
    });
    if (!r) return; // this failure is being handled already
    await this.event('revert.step', r, {
      step: 'started',
      check: f.check,
      error: f.error,
      goodSha: good?.sha ?? null,
    });
    if (f.rollback)
      await this.d.store.update(r.id, {
        step: {
          step: 'guard-deploy',
          sha: f.rollback.sha,
          deploymentId: f.rollback.id,
          result: 'the failed check rolled the environment back to it',
        },
      });
    this.schedule(r.appId, r.id);
  }

  /** After a restart: picks up every revert a stopped server left midway. */
  async recover(): Promise<void> {
    for (const r of await this.d.store.unfinished()) this.schedule(r.appId, r.id);
  }

  stop(): void {
    this.stopped = true;
  }

  /** Resolves when no revert is being worked on (tests). */
  async idle(): Promise<void> {
    while (this.chains.size) await Promise.allSettled([...this.chains.values()]);
  }

  list(q: { appId?: string; limit?: number }): Promise<Revert[]> {
    return this.d.store.list(q);
  }

  /** One revert at a time per app: each can deploy to the app's environment. */
  private schedule(appId: string, id: string): void {
    const before = this.chains.get(appId) ?? Promise.resolve();
    const next = before
      .then(() => this.advance(id))
      .catch((err: unknown) => this.d.logger.error({ err, revert: id }, 'the revert failed'))
      .finally(() => {
        if (this.chains.get(appId) === next) this.chains.delete(appId);
      });
    this.chains.set(appId, next);
  }

  private async advance(id: string): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const r = await this.d.store.find(id);
      if (!r) return;
      try {
        if (r.status === 'guarding') await this.guard(r);
        else if (r.status === 'bisecting') await this.bisect(r);
        else if (r.status === 'reverting') await this.revert(r);
        else return;
      } catch (e) {
        if (this.stopped) return; // a restart resumes it
        if (e instanceof Stale) {
          await this.finish(
            r,
            'skipped',
            `a newer release ${short(e.sha)} reached ${r.env} while Gantry was testing ${short(r.sha)}; its own checks decide now, and nothing was reverted`,
          );
          return;
        }
        await this.finish(r, 'failed', `${e instanceof Error ? e.message : String(e)}`);
        return;
      }
    }
  }

  /** The environment guard: the last verified release deployed back and checked again. */
  private async guard(r: Revert): Promise<void> {
    const app = await this.appOf(r);
    if (!r.goodSha)
      return this.finish(
        r,
        'skipped',
        `no verified release of ${r.env} before ${short(r.sha)} to compare with, so a failing commit cannot be told from a broken environment; nothing reverted`,
      );
    let guardId = r.steps.findLast((s) => s.step === 'guard-deploy')?.deploymentId ?? null;
    if (!guardId) {
      const d = await this.deployFor(r, {
        app,
        env: r.env,
        sha: r.goodSha,
        trigger: 'auto-rollback',
        reason: `environment guard: is ${short(r.goodSha)} still verified? (${short(r.sha)} failed its checks)`,
      });
      await this.d.store.update(r.id, {
        step: {
          step: 'guard-deploy',
          sha: r.goodSha,
          deploymentId: d.id,
          result: 'deployed the last verified release back',
        },
      });
      guardId = d.id;
    }
    const settled = await this.settled(guardId, r);
    if (settled === 'passed') {
      await this.step(r, {
        step: 'guard',
        sha: r.goodSha,
        deploymentId: guardId,
        result: `the last verified release ${short(r.goodSha)} passes its checks again: the environment is fine, the change is to blame`,
      });
      await this.d.store.update(r.id, { status: 'bisecting' });
      return;
    }
    if (settled === 'failed') {
      await this.step(r, {
        step: 'guard',
        sha: r.goodSha,
        deploymentId: guardId,
        result: `the last verified release ${short(r.goodSha)} fails its checks too`,
      });
      const why = `${r.env} is broken, not the commit: the last verified release ${short(r.goodSha)} fails its checks too; nothing reverted`;
      await this.incident(
        r,
        `${r.env} is broken: the checks fail on the last verified release ${short(r.goodSha)} too`,
      );
      return this.finish(r, 'skipped', why);
    }
    return this.finish(
      r,
      'failed',
      `the environment guard could not deploy ${short(r.goodSha)}: ${settled.notDeployed}`,
    );
  }

  /** Finds the commit to blame: the only new one, or the first failing one by bisection. */
  private async bisect(r: Revert): Promise<void> {
    const app = await this.appOf(r);
    const mirror = this.d.apps.mirrorOf(app);
    const commits = await mirror.newCommits(r.goodSha, r.sha);
    if (commits.length === 0)
      return this.finish(
        r,
        'skipped',
        `${short(r.sha)} brought no new commit after ${short(r.goodSha ?? '')}`,
      );
    let lo = -1;
    let hi = commits.length - 1;
    for (const s of r.steps) {
      if (s.step !== 'bisect' || !s.sha) continue;
      const i = commits.findIndex((c) => c.sha === s.sha);
      if (i < 0) continue;
      if (s.result.startsWith('passes')) lo = Math.max(lo, i);
      else hi = Math.min(hi, i);
    }
    let tested = r.steps.some((s) => s.step === 'bisect');
    while (hi - lo > 1) {
      if (this.stopped) return;
      const mid = Math.floor((lo + hi) / 2);
      const c = commits[mid]!;
      const outcome = await this.tryCommit(
        app,
        r,
        c.sha,
        `bisect of ${short(r.sha)}: ${commits.length} new commits, testing ${mid + 1}`,
      );
      tested = true;
      if (outcome === 'passed') lo = mid;
      else hi = mid;
      await this.step(r, {
        step: 'bisect',
        sha: c.sha,
        deploymentId: null,
        result:
          outcome === 'passed'
            ? 'passes its checks'
            : `fails: ${outcome === 'failed' ? 'its checks fail' : outcome.notDeployed}`,
      });
    }
    const blamed = commits[hi]!;
    const how =
      commits.length === 1
        ? 'the only new commit of the failed release'
        : `the first of ${commits.length} new commits whose checks fail (bisected)`;
    if (isRevertMessage(blamed.message)) {
      if (tested) await this.back(app, r);
      return this.finish(
        r,
        'skipped',
        `${short(blamed.sha)} (${how}) is itself a revert; Gantry never reverts a revert`,
        blamed.sha,
      );
    }
    const newer = await this.newerVerified(r, blamed.sha, mirror);
    if (newer) {
      if (tested) await this.back(app, r);
      return this.finish(
        r,
        'skipped',
        `a newer release ${short(newer)} that contains ${short(blamed.sha)} passed its checks since; nothing reverted`,
        blamed.sha,
      );
    }
    // Seen failing only before the guard: it must fail again after the guard passed (A/B/A), so a
    // check that fails at random must fail twice in a row, twice, to revert an innocent commit.
    const confirmed = r.steps.some(
      (s) => (s.step === 'bisect' || s.step === 'confirm') && s.sha === blamed.sha,
    );
    if (!confirmed) {
      const again = await this.tryCommit(
        app,
        r,
        blamed.sha,
        `confirm that ${short(blamed.sha)} fails its checks again`,
      );
      await this.step(r, {
        step: 'confirm',
        sha: blamed.sha,
        deploymentId: null,
        result:
          again === 'passed'
            ? 'passes its checks'
            : again === 'failed'
              ? 'fails: its checks fail'
              : `not deployed: ${again.notDeployed}`,
      });
      await this.back(app, r);
      if (again === 'passed')
        return this.finish(
          r,
          'skipped',
          `${short(blamed.sha)} passed its checks when tried again after the guard: the failure did not repeat (a flaky check, not the commit); nothing reverted`,
          blamed.sha,
        );
      if (again !== 'failed')
        return this.finish(
          r,
          'failed',
          `could not try ${short(blamed.sha)} again: ${again.notDeployed}`,
          blamed.sha,
        );
    } else if (tested) await this.back(app, r);
    await this.step(r, { step: 'blame', sha: blamed.sha, deploymentId: null, result: how });
    const claim = await this.d.store.claimCommit(app.id, blamed.sha, r.id);
    if (!claim.mine)
      return this.finish(
        r,
        'skipped',
        `${short(blamed.sha)} was reverted already (${claim.by}); it is never reverted twice`,
        blamed.sha,
      );
    await this.d.store.update(r.id, { status: 'reverting', blamedSha: blamed.sha });
  }

  /** Makes the revert on top of the current main and pushes it (auto), or to a branch (propose). */
  private async revert(r: Revert): Promise<void> {
    const app = await this.appOf(r);
    const mirror = this.d.apps.mirrorOf(app);
    const blamedSha = r.blamedSha!;
    await mirror.fetch();
    const trailer = `Gantry-Revert-Of: ${blamedSha}`;
    const main = await mirror.headOf();
    if (!main) return this.finish(r, 'failed', `the branch ${app.branch} is gone`);
    const pushedBefore = await mirror.findCommitWithLine(main, trailer);
    if (pushedBefore) {
      await this.d.store.update(r.id, { revertSha: pushedBefore });
      return this.finish(r, 'reverted', `the revert ${short(pushedBefore)} is on ${app.branch}`);
    }
    const branch = `gantry/revert-${short(blamedSha)}`;
    const proposedBefore = await mirror.headOf(branch);
    if (proposedBefore && (await mirror.findCommitWithLine(proposedBefore, trailer))) {
      await this.d.store.update(r.id, { branch, revertSha: proposedBefore });
      return this.finish(r, 'proposed', `the revert waits on the branch ${branch}`);
    }
    if (!(await mirror.isAncestor(blamedSha, main)))
      return this.finish(
        r,
        'skipped',
        `${app.branch} no longer contains ${short(blamedSha)} (it was force-pushed away); nothing to revert`,
      );
    const blamed = (await mirror.newCommits(`${blamedSha}^`, blamedSha).catch(() => [])).find(
      (c) => c.sha === blamedSha,
    );
    const subject = blamed?.message.split('\n')[0] ?? short(blamedSha);
    const message = revertMessage(
      { sha: blamedSha, subject },
      { check: r.check ?? 'checks', env: r.env, failedSha: r.sha, deploymentId: r.deploymentId },
    );
    const work = join(this.d.dataDir, 'work', 'reverts', r.id);
    const parents = blamed?.parents ?? [];
    if (r.mode === 'auto') {
      for (let attempt = 1; attempt <= 3; attempt++) {
        const head = attempt === 1 ? main : await mirror.fetch().then(() => mirror.headOf());
        if (!head) break;
        const made = await makeRevertCommit(mirror, work, head, { sha: blamedSha, parents }, message);
        if (!made.ok) return this.propose(r, mirror, { sha: blamedSha, parents }, message, branch, made.why);
        const pushed = await mirror.pushCommit(made.sha, app.branch);
        if (pushed.ok) {
          await this.d.store.update(r.id, { revertSha: made.sha });
          await this.event('revert.pushed', r, {
            blamed: blamedSha,
            revertSha: made.sha,
            branch: app.branch,
            check: r.check,
          });
          await this.finish(r, 'reverted', `pushed the revert ${short(made.sha)} to ${app.branch}`);
          await this.d
            .ingest(app)
            .catch((err: unknown) => this.d.logger.warn({ err }, 'could not fetch the pushed revert'));
          return;
        }
        if (!pushed.moved)
          return this.finish(
            r,
            'failed',
            `the push of the revert to ${app.branch} was refused: ${pushed.why}`,
          );
      }
      return this.propose(
        r,
        mirror,
        { sha: blamedSha, parents },
        message,
        branch,
        `${app.branch} kept moving while the revert was pushed`,
      );
    }
    return this.propose(
      r,
      mirror,
      { sha: blamedSha, parents },
      message,
      branch,
      'revert.on_check_failure is propose',
    );
  }

  private async propose(
    r: Revert,
    mirror: RepoMirror,
    blamed: { sha: string; parents: string[] },
    message: string,
    branch: string,
    why: string,
  ): Promise<void> {
    const work = join(this.d.dataDir, 'work', 'reverts', r.id);
    const main = (await mirror.headOf()) ?? r.sha;
    let made = await makeRevertCommit(mirror, work, main, blamed, message);
    // It does not apply on main as it is now: on the failed release it was found in, it may.
    if (!made.ok && main !== r.sha) made = await makeRevertCommit(mirror, work, r.sha, blamed, message);
    if (!made.ok)
      return this.finish(r, 'failed', `${why}; and ${made.why}: revert ${short(blamed.sha)} by hand`);
    const pushed = await mirror.pushCommit(made.sha, branch);
    if (!pushed.ok)
      return this.finish(r, 'failed', `${why}; the push of the branch ${branch} was refused: ${pushed.why}`);
    await this.d.store.update(r.id, { branch, revertSha: made.sha });
    await this.event('revert.proposed', r, {
      blamed: blamed.sha,
      revertSha: made.sha,
      branch,
      check: r.check,
      why,
      incident: r.incidentId,
    });
    return this.finish(
      r,
      'proposed',
      `${why}: the revert ${short(made.sha)} waits on the branch ${branch} for a person to merge`,
    );
  }

  /** Leaves the environment as the guard left it: on the last verified release. */
  private async back(app: AppRecord, r: Revert): Promise<void> {
    if (!r.goodSha) return;
    const d = await this.deployFor(r, {
      app,
      env: r.env,
      sha: r.goodSha,
      trigger: 'bisect',
      reason: `done testing ${short(r.sha)}'s commits: back to the last verified release`,
    });
    await this.settled(d.id, r);
  }

  /** Deploys a commit (building it first when it has no artifact) and says how its checks went. */
  private async tryCommit(app: AppRecord, r: Revert, sha: string, reason: string): Promise<Settled> {
    if (!(await this.d.hasArtifact(app.id, sha))) {
      const build = await this.d.build(app, sha);
      if (build) {
        const done = await this.wait(async () => {
          const b = await this.d.findBuild(build.id);
          return FINISHED_BUILD.includes(b.status) ? b : undefined;
        });
        if (done.status !== 'succeeded') return { notDeployed: `its build ${done.id} ${done.status}` };
      }
    }
    const d = await this.deployFor(r, { app, env: r.env, sha, trigger: 'bisect', reason });
    return this.settled(d.id, r);
  }

  /**
   * A change (a commit of main, a tag, a person's deployment) requested in the environment after
   * the failed deployment: then Gantry's own testing there stops, so it never replaces newer work.
   */
  private async newerChange(r: Revert): Promise<Deployment | undefined> {
    const recent = await this.d.deployments.list({ appId: r.appId, env: r.env, limit: 50 });
    return recent.find(
      (d) =>
        d.id > r.deploymentId &&
        ['auto', 'tag', 'cli', 'api'].includes(d.trigger) &&
        !['rejected', 'superseded'].includes(d.status),
    );
  }

  private async deployFor(r: Revert, req: Parameters<ReverterDeps['deploy']>[0]): Promise<Deployment> {
    const newer = await this.newerChange(r);
    if (newer) throw new Stale(newer.sha);
    return this.d.deploy(req);
  }

  /** Waits for a deployment and its checks; one a server stop cut short is followed into its retry. */
  private async settled(first: string, r?: Revert): Promise<Settled> {
    const outcome = await this.settledOnce(first);
    if (r && outcome !== 'passed') {
      const newer = await this.newerChange(r);
      if (newer) throw new Stale(newer.sha);
    }
    return outcome;
  }

  private async settledOnce(first: string): Promise<Settled> {
    let id = first;
    const d = await this.wait(async () => {
      const dep = await this.d.deployments.find(id);
      if (dep?.status === 'interrupted') {
        const recent = await this.d.deployments.list({ appId: dep.appId, env: dep.env, limit: 50 });
        const retry = recent.find((r) => r.id > dep.id && r.reason === retryReason(dep));
        if (retry) {
          id = retry.id;
          return undefined;
        }
      }
      if (!dep) return { notDeployed: `deployment ${id} is gone` } as const;
      if (dep.status === 'queued' || dep.status === 'running') return undefined;
      if (dep.status !== 'succeeded')
        return { notDeployed: `deployment ${id} ${dep.status}${dep.error ? `: ${dep.error}` : ''}` } as const;
      if (dep.verification === 'verifying') return undefined;
      if (dep.verification === null && (await this.d.checksOf(dep)).length > 0) return undefined; // about to start
      return dep;
    });
    if ('notDeployed' in d) return d;
    if (d.verification === 'check_failed') return 'failed';
    if (d.verification === 'superseded')
      return { notDeployed: `a newer deployment replaced ${id} before its checks ended` };
    return 'passed';
  }

  private async wait<T>(probe: () => Promise<T | undefined>): Promise<T> {
    const until = Date.now() + MAX_WAIT_MS;
    for (;;) {
      if (this.stopped) throw new Error('the server is stopping');
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > until) throw new Error('gave up waiting after 2 hours');
      await new Promise((resolve) => setTimeout(resolve, this.d.pollMs ?? 200));
    }
  }

  /** The newest release of the environment before `dep` that passed its checks. */
  private async lastVerified(dep: Deployment): Promise<Deployment | undefined> {
    const history = await this.d.deployments.list({ appId: dep.appId, env: dep.env, limit: 200 });
    return history.find(
      (d) => d.id < dep.id && d.status === 'succeeded' && d.verification === 'verified' && d.sha !== dep.sha,
    );
  }

  /** A change deployed after the failed one, containing `sha`, that passed its checks: then the result is stale. */
  private async newerVerified(r: Revert, sha: string, mirror: RepoMirror): Promise<string | null> {
    const history = await this.d.deployments.list({
      appId: (await this.appOf(r)).id,
      env: r.env,
      limit: 200,
    });
    for (const d of history) {
      if (d.id <= r.deploymentId || d.verification !== 'verified') continue;
      if (d.trigger === 'bisect' || d.trigger === 'auto-rollback' || d.trigger === 'rollback') continue;
      if (await mirror.isAncestor(sha, d.sha).catch(() => false)) return d.sha;
    }
    return null;
  }

  private appOf(r: Revert): Promise<AppRecord> {
    return this.d.apps.getById(r.appId);
  }

  private async step(r: Revert, step: NonNullable<RevertChange['step']>): Promise<void> {
    await this.d.store.update(r.id, { step });
    await this.event('revert.step', r, { ...step });
  }

  private async finish(
    r: Revert,
    status: 'reverted' | 'proposed' | 'skipped' | 'failed',
    why: string,
    blamed?: string,
  ): Promise<void> {
    const done = await this.d.store.update(r.id, {
      status,
      why,
      ...(blamed && { blamedSha: blamed }),
      step: { step: status, sha: blamed ?? r.blamedSha, deploymentId: null, result: why },
    });
    if (status === 'skipped' || status === 'failed')
      await this.event('revert.skipped', done, { blamed: done.blamedSha, why, status });
    this.d.logger.info({ revert: r.id, status, why }, 'revert finished');
  }

  private async incident(r: Revert, title: string): Promise<void> {
    try {
      const { id } = await this.d.openIncident({
        app: r.app,
        env: r.env,
        deploymentId: r.deploymentId,
        title,
        actor: ACTOR,
      });
      await this.d.store.update(r.id, { incidentId: id });
    } catch (err) {
      this.d.logger.warn({ err, revert: r.id }, 'could not open an incident');
    }
  }

  private async event(
    type: 'revert.step' | 'revert.pushed' | 'revert.proposed' | 'revert.skipped',
    r: Revert,
    data: Record<string, unknown>,
  ): Promise<void> {
    await this.d.events.append({
      type,
      appId: r.appId,
      subject: r.id,
      actor: ACTOR,
      data: { env: r.env, sha: r.sha, failedDeployment: r.deploymentId, ...data },
    });
  }
}

/** A newer change reached the environment while a revert was testing there. */
class Stale extends Error {
  constructor(readonly sha: string) {
    super(`a newer release ${sha} reached the environment`);
  }
}
