import type {
  Artifact,
  Deployment,
  DeploymentOverride,
  DeploymentTrigger,
  GantryEnvironment,
  GantryYaml,
  RollbackChoice,
} from '@gantry/contracts';
import { errorSummary, formatConfigIssue, isRollbackTrigger, parseGantryYaml } from '@gantry/contracts';
import { Conflict, InvalidInput, NotAllowed, NotFound } from '../../errors.js';
import type { EventStore } from '../../events/event-store.js';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../apps/app-store.js';
import type { ArtifactService } from '../artifacts/artifact-service.js';
import type { BuildStore } from '../builds/build-store.js';
import { allocatePort, environmentNames, environmentOf } from '../environments/environment-specs.js';
import type { EnvironmentRecord, EnvironmentStore } from '../environments/environment-store.js';
import { type DeploymentGate, type GateRequest, OPEN_GATE, type Requester } from './deployment-gate.js';
import type { DeploymentStore } from './deployment-store.js';
import type { DriverRegistry } from './driver-registry.js';
import { rollbackTarget, skippedText } from './rollback-target.js';

/** gantry.yaml at a SHA: the config, or why there is none (missing, does not parse). */
interface ParsedConfig {
  config?: GantryYaml;
  problem: string | null;
}

/** Parsed gantry.yaml files kept (a few kB each): several per app, for hundreds of apps. */
const CONFIG_CACHE_ENTRIES = 4_000;

export interface DeployRequest {
  app: AppRecord;
  env: string;
  sha: string;
  trigger: DeploymentTrigger;
  actor: string;
  reason?: string | null;
  tag?: string | null;
  /** Skips the promote_from gate; recorded on the deployment. */
  force?: boolean;
  /** The failed deployment of this environment that this one fixes (metrics: a fix-forward). */
  remediates?: string | null;
  /** Protected environments need an explicit yes from a person (CLI `--yes` or its prompt). */
  confirmed?: boolean;
  /** Who asked (approvals: the requester; break-glass: an admin). */
  principal?: Requester;
  /** An admin's break-glass: skips freeze windows and approvals (features/approvals). */
  override?: DeploymentOverride | null;
}

/** Triggers where someone waits for the answer, so a refusal that is not a gate is an error, not a row. */
const ANSWERED: readonly DeploymentTrigger[] = ['cli', 'api', 'rollback'];

/**
 * The only path by which an artifact reaches an environment: every request passes the same gates
 * and becomes a recorded deployment, queued, or rejected with the reason.
 */
export class DeploymentService {
  private wake: () => void = () => {};
  private gate: DeploymentGate = OPEN_GATE;
  private readonly configs = new Map<string, Promise<ParsedConfig>>();

  constructor(
    private readonly deployments: DeploymentStore,
    private readonly envs: EnvironmentStore,
    private readonly apps: AppService,
    private readonly artifacts: ArtifactService,
    private readonly drivers: DriverRegistry,
    private readonly events: EventStore,
    /** Says why a commit has no artifact (its build failed, is running…); optional for tests. */
    private readonly builds?: Pick<BuildStore, 'list'>,
  ) {}

  onQueued(wake: () => void): void {
    this.wake = wake;
  }

  /** Approvals and freeze windows decide whether a request is queued, waits or is refused. */
  useGate(gate: DeploymentGate): void {
    this.gate = gate;
  }

  /** Throws unless the principal may break the glass (server:admin) and gave a reason. */
  checkOverride(principal: Requester | undefined, override: DeploymentOverride): void {
    this.gate.checkOverride(principal, override);
  }

  /** A deployment was queued outside `request` (approved at last): the deployer looks now. */
  wakeDeployer(): void {
    this.wake();
  }

  async configAt(app: AppRecord, sha: string): Promise<GantryYaml | undefined> {
    return (await this.parsedConfigAt(app, sha)).config;
  }

  /** gantry.yaml at a SHA never changes, so each is read from git once; `problem` says why there is none. */
  private parsedConfigAt(app: AppRecord, sha: string): Promise<ParsedConfig> {
    const key = `${app.id}:${sha}`;
    const cached = this.configs.get(key);
    if (cached) {
      // Least recently used goes first: a status read of every app keeps each head and serving SHA.
      this.configs.delete(key);
      this.configs.set(key, cached);
      return cached;
    }
    const at = sha.slice(0, 12);
    const read = this.apps
      .mirrorOf(app)
      .readFile(sha, 'gantry.yaml')
      .then((text): ParsedConfig => {
        if (text === null) return { problem: `there is no gantry.yaml at ${at}` };
        const { config, errors } = parseGantryYaml(text);
        if (config) return { config, problem: null };
        const shown = errors.slice(0, 3).map(formatConfigIssue).join('; ');
        return {
          problem: `gantry.yaml at ${at} does not parse: ${shown}${errors.length > 3 ? ` (+${errors.length - 3} more)` : ''}`,
        };
      });
    this.configs.set(key, read);
    // A failed read (a SHA not fetched yet) is not remembered.
    read.catch(() => this.configs.delete(key));
    if (this.configs.size > CONFIG_CACHE_ENTRIES)
      this.configs.delete(this.configs.keys().next().value as string);
    return read.catch(() => ({ problem: null }));
  }

  async environment(app: AppRecord, name: string): Promise<EnvironmentRecord> {
    return this.envs.ensure(app.id, name, async () => allocatePort(await this.envs.usedPorts()));
  }

  /** `remediates` must name a deployment of the same app and environment. */
  async checkRemediates(app: AppRecord, env: string, id: string): Promise<void> {
    const target = await this.deployments.find(id);
    if (!target || target.appId !== app.id || target.env !== env)
      throw new InvalidInput(
        `remediates ${id}: ${target ? `that is a deployment of ${target.app}/${target.env}` : 'no such deployment'}; name a deployment of ${app.name}/${env} (see \`gantry history ${env}\`)`,
      );
  }

  async request(r: DeployRequest): Promise<Deployment> {
    if (r.remediates) await this.checkRemediates(r.app, r.env, r.remediates);
    const parsed = await this.parsedConfigAt(r.app, r.sha);
    const envConfig = environmentOf(parsed.config, r.env);
    const current = await this.deployments.lastSucceeded(r.app.id, r.env);
    const artifact = await this.artifacts.findCurrent(r.app.id, r.sha);
    const base = {
      appId: r.app.id,
      env: r.env,
      sha: r.sha,
      previousSha: current?.sha ?? null,
      artifactId: artifact?.id ?? null,
      digest: artifact?.digest ?? null,
      trigger: r.trigger,
      actor: r.actor,
      reason: r.reason ?? null,
      tag: r.tag ?? null,
      forced: Boolean(r.force),
      remediates: r.remediates ?? null,
    };
    const reject = async (why: string) => {
      const d = await this.deployments.insert({ ...base, status: 'rejected', error: why });
      await this.event('deployment.rejected', d, { reason: why });
      return d;
    };

    // Collected by retention: a person asking gets the reason (409) and how to get it back.
    const collected = artifact ? null : await this.collected(r.app, r.sha);
    if (collected && ANSWERED.includes(r.trigger)) throw new Conflict(collected);
    const refused = await this.gates(r, parsed, envConfig, artifact);
    if (refused !== null || !envConfig) return reject(refused ?? `environment "${r.env}" is not declared`);
    const gone = artifact && (await this.imageGone(r.app, artifact));
    if (gone) {
      // A person asking gets the reason and nothing is recorded (no row, event or tag); a tag or an
      // auto-deploy has no one to answer, so its refusal is recorded.
      if (ANSWERED.includes(r.trigger)) throw new Conflict(gone);
      return reject(gone);
    }
    const gate: GateRequest = { ...r, config: parsed.config, envConfig, digest: artifact?.digest ?? null };
    const verdict = await this.gate.check(gate);
    if (verdict.kind === 'refuse') {
      if (ANSWERED.includes(r.trigger)) throw new Conflict(verdict.why, verdict.details);
      return reject(verdict.why);
    }
    const env = await this.environment(r.app, r.env);
    if (r.trigger === 'auto' && env.hold) {
      if (env.hold.sha === r.sha) {
        return reject(
          `environment "${r.env}" holds ${r.sha.slice(0, 12)} back after a rollback; push a newer commit or run \`gantry hold release ${r.env}\``,
        );
      }
      await this.releaseHold(r.app, r.env, 'gantry', 'a newer commit arrived');
    }

    const d = await this.deployments.insert({
      ...base,
      status: verdict.kind === 'wait' ? 'awaiting_approval' : 'queued',
    });
    await this.gate.recorded(d, gate, verdict);
    if (verdict.kind === 'wait') return d;
    await this.event('deployment.queued', d, { previousSha: d.previousSha, forced: d.forced });
    if ((envConfig.queue ?? 'latest') === 'latest') {
      for (const id of await this.deployments.supersedeQueued(r.app.id, r.env, d.id)) {
        const superseded = await this.deployments.find(id);
        if (superseded) await this.event('deployment.superseded', superseded, { by: d.id });
      }
    }
    this.wake();
    return d;
  }

  /**
   * The gates every request passes (environment declared at that SHA, artifact, driver, protected,
   * promote_from), without recording anything: why the request would be refused, or null. Throws
   * NotAllowed for a protected environment that was not confirmed. `gantry deploy` runs them before
   * it pushes a deploy tag, so a request that cannot pass leaves no tag behind.
   */
  async refusal(r: DeployRequest): Promise<string | null> {
    const parsed = await this.parsedConfigAt(r.app, r.sha);
    const artifact = await this.artifacts.findCurrent(r.app.id, r.sha);
    const envConfig = environmentOf(parsed.config, r.env);
    const refused = await this.gates(r, parsed, envConfig, artifact);
    if (refused !== null || !envConfig) return refused;
    const gone = artifact ? await this.imageGone(r.app, artifact) : null;
    if (gone) return gone;
    const verdict = await this.gate.check({
      ...r,
      config: parsed.config,
      envConfig,
      digest: artifact?.digest ?? null,
    });
    return verdict.kind === 'refuse' ? verdict.why : null;
  }

  /** For an image artifact: why it cannot be deployed (deleted from its registry, or it cannot be asked), or null. */
  private async imageGone(app: AppRecord, artifact: Artifact): Promise<string | null> {
    return this.artifacts.checkAvailable(app, artifact).then(
      () => null,
      (e: unknown) => {
        if (e instanceof Conflict) return e.message;
        throw e;
      },
    );
  }

  private async gates(
    r: DeployRequest,
    { config, problem }: ParsedConfig,
    envConfig: GantryEnvironment | undefined,
    artifact: Artifact | undefined,
  ): Promise<string | null> {
    if (!envConfig && problem) {
      return (
        `cannot deploy ${r.sha.slice(0, 12)} to "${r.env}": ${problem}. ` +
        'Fix gantry.yaml in a new commit (check it with `gantry validate`) and deploy that'
      );
    }
    if (!envConfig) {
      const names = environmentNames(config);
      return (
        `environment "${r.env}" is not declared in gantry.yaml at ${r.sha.slice(0, 12)}` +
        (names.length ? ` (declared: ${names.join(', ')})` : '; add an environments section')
      );
    }
    if (!artifact) return this.noArtifact(r.app, r.sha);
    if (!this.drivers.has(envConfig.driver)) {
      return `driver "${envConfig.driver}" is not available; use one of ${this.drivers.names().join(', ')}`;
    }
    if (envConfig.protected && r.trigger === 'auto') {
      return `environment "${r.env}" is protected and is never deployed automatically`;
    }
    if (
      envConfig.protected &&
      !r.confirmed &&
      (r.trigger === 'cli' || r.trigger === 'api' || r.trigger === 'rollback')
    ) {
      throw new NotAllowed(
        `environment "${r.env}" is protected: confirm the deployment (CLI: answer the prompt or pass --yes)`,
      );
    }
    const upstream = envConfig.promote_from;
    if (
      upstream &&
      !isRollbackTrigger(r.trigger) &&
      r.trigger !== 'bisect' &&
      !(await this.deployments.hasSucceeded(r.app.id, upstream, r.sha))
    ) {
      if (!r.force) {
        return (
          `commit ${r.sha.slice(0, 12)} was never deployed healthy to "${upstream}", which "${r.env}" promotes from; ` +
          `deploy it to ${upstream} first, or pass --force (recorded)`
        );
      }
    }
    return null;
  }

  /** Why a commit has no artifact, from its newest build: failed (and why), still running, never built. */
  private async noArtifact(app: AppRecord, sha: string): Promise<string> {
    const s = sha.slice(0, 12);
    const builds = (await this.builds?.list({ appId: app.id, sha, limit: 20 })) ?? [];
    const pending = builds.find((b) => b.status === 'queued' || b.status === 'running');
    if (pending) {
      return (
        `commit ${s} has no artifact yet: its build ${pending.id} is ${pending.status}; ` +
        `follow it with \`gantry logs -f ${pending.id}\` and deploy again when it succeeds`
      );
    }
    const collected = await this.collected(app, sha);
    if (collected) return collected;
    const last = builds[0];
    if (last?.status === 'failed') {
      return (
        `commit ${s} has no artifact: its build ${last.id} failed (${errorSummary(last.error)}); see \`gantry logs ${last.id}\`. ` +
        `Building it again will not help unless the failure was flaky (then \`gantry build ${s}\`); fix it in a new commit and deploy that`
      );
    }
    if (last && last.status !== 'succeeded') {
      return (
        `commit ${s} has no artifact: its build ${last.id} was ${last.status}; ` +
        `build it with \`gantry build ${s}\` and deploy again`
      );
    }
    return (
      `commit ${s} has no artifact: Gantry deploys only what it built (never rebuilds on deploy). ` +
      `Build it with \`gantry build ${s}\` and deploy again`
    );
  }

  /** Why a commit whose artifact retention collected cannot deploy, and how to get it back; null otherwise. */
  private async collected(app: AppRecord, sha: string): Promise<string | null> {
    const [newest] = await this.artifacts.list({ appId: app.id, sha, includePruned: true, limit: 1 });
    if (!newest?.prunedAt || newest.sha !== sha) return null;
    const s = sha.slice(0, 12);
    return (
      `the artifact of ${s} (${newest.id}) was collected on ${newest.prunedAt.slice(0, 10)} to free space (artifact retention, docs/retention.md); ` +
      `build the commit again with \`gantry build ${s}\` and deploy it when the build succeeds`
    );
  }

  /** Deploys a freshly built commit to every environment with auto_deploy. */
  async autoDeploy(app: AppRecord, sha: string): Promise<Deployment[]> {
    const config = await this.configAt(app, sha);
    const out: Deployment[] = [];
    for (const [name, env] of Object.entries(config?.environments ?? {})) {
      if (env.auto_deploy)
        out.push(await this.request({ app, env: name, sha, trigger: 'auto', actor: 'gantry' }));
    }
    return out;
  }

  /**
   * Rolls back through the same path: to the newest release the environment ran healthy before the
   * current one, never onto one rolled back from, failed or held (see `rollbackTarget`), or to
   * `toSha` when named. The answer says which release was picked and why.
   */
  async rollback(
    app: AppRecord,
    env: string,
    actor: string,
    opts: {
      /** A ref as typed (`--to`): a SHA this environment ran is taken as it is, anything else is resolved in git. */
      to?: string;
      confirmed?: boolean;
      reason?: string;
      trigger?: 'rollback' | 'auto-rollback';
      /** Who asked (protect_rollbacks: the requester of the approval). */
      principal?: Requester;
    },
  ): Promise<Deployment & { rollback: RollbackChoice }> {
    const current = await this.deployments.lastSucceeded(app.id, env);
    if (!current)
      throw new InvalidInput(
        `nothing to roll back to: "${env}" of ${app.name} has no successful deployment yet`,
      );
    const history = await this.deployments.list({ appId: app.id, env, limit: 1000 });
    const hold = (await this.envs.find(app.id, env))?.hold;
    // The usual `--to` names a release of this history in full: no git process on the rollback's path.
    const toSha =
      opts.to === undefined || history.some((d) => d.sha === opts.to)
        ? opts.to
        : await this.apps.mirrorOf(app).resolve(opts.to);
    const choice = rollbackTarget(history, current.sha, env, { toSha, heldSha: hold?.sha });
    if (!choice.to) {
      const only = !history.some((d) => d.status === 'succeeded' && d.sha !== current.sha);
      throw new InvalidInput(
        only
          ? `nothing to roll back to: ${current.sha.slice(0, 12)} is the only release "${env}" has run; deploy another with \`gantry deploy ${env} <ref>\``
          : `nothing to roll back to: ${choice.why} (skipped ${skippedText(choice.skipped)}); ` +
              `name one with \`gantry rollback ${env} --to <ref>\``,
        { skipped: choice.skipped },
      );
    }
    if (choice.to === current.sha) throw new InvalidInput(`"${env}" already runs ${choice.to.slice(0, 12)}`);
    const d = await this.request({
      app,
      env,
      sha: choice.to,
      trigger: opts.trigger ?? 'rollback',
      actor,
      reason: opts.reason ?? `rollback from ${current.sha.slice(0, 12)}`,
      confirmed: opts.confirmed,
      principal: opts.principal,
    });
    return { ...d, rollback: { ...choice, to: choice.to } };
  }

  async get(id: string): Promise<Deployment> {
    const d = await this.deployments.find(id);
    if (!d) throw new NotFound(`no deployment "${id}"; see \`gantry history <env>\``);
    const approval = await this.gate.approvalOf(d);
    const shown = approval ? { ...d, approval } : d;
    if (d.status !== 'queued') return shown;
    const queue = await this.deployments.queued(d.appId, d.env);
    return { ...shown, position: queue.findIndex((q) => q.id === d.id) + 1 };
  }

  async lock(app: AppRecord, env: string, actor: string, reason: string | null): Promise<EnvironmentRecord> {
    const record = await this.environment(app, env);
    if (record.lock)
      throw new InvalidInput(`"${env}" is already locked by ${record.lock.by} since ${record.lock.since}`);
    await this.envs.setLock(record.id, { by: actor, reason });
    await this.events.append({
      type: 'environment.locked',
      appId: app.id,
      subject: env,
      actor,
      data: { reason },
    });
    return (await this.envs.find(app.id, env))!;
  }

  async unlock(app: AppRecord, env: string, actor: string): Promise<EnvironmentRecord> {
    const record = await this.environment(app, env);
    await this.envs.setLock(record.id, null);
    await this.events.append({ type: 'environment.unlocked', appId: app.id, subject: env, actor, data: {} });
    this.wake();
    return (await this.envs.find(app.id, env))!;
  }

  async hold(app: AppRecord, env: string, sha: string, actor: string, reason: string): Promise<void> {
    const record = await this.environment(app, env);
    await this.envs.setHold(record.id, { sha, reason });
    await this.events.append({
      type: 'environment.held',
      appId: app.id,
      subject: env,
      actor,
      data: { sha, reason },
    });
  }

  async releaseHold(app: AppRecord, env: string, actor: string, reason = 'released by hand'): Promise<void> {
    const record = await this.environment(app, env);
    if (!record.hold) return;
    await this.envs.setHold(record.id, null);
    await this.events.append({
      type: 'environment.hold_released',
      appId: app.id,
      subject: env,
      actor,
      data: { sha: record.hold.sha, reason },
    });
  }

  private event(
    type: 'deployment.queued' | 'deployment.rejected' | 'deployment.superseded',
    d: Deployment,
    data: object,
  ) {
    return this.events.append({
      type,
      appId: d.appId,
      subject: d.id,
      actor: d.actor,
      data: { env: d.env, sha: d.sha, trigger: d.trigger, ...data },
    });
  }
}
