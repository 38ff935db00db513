import type {
  ApprovalDecisionBody,
  ApprovalState,
  Deployment,
  DeploymentApproval,
  DeploymentOverride,
  EventType,
} from '@gantry/contracts';
import { activeFreeze, formatDuration, freezeRefusal } from '@gantry/contracts';
import type { Logger } from 'pino';
import type { Db } from '../../db/database.js';
import { Conflict, InvalidInput, NotAllowed, NotFound } from '../../errors.js';
import type { EventStore } from '../../events/event-store.js';
import type { AppService } from '../apps/app-service.js';
import type { ArtifactService } from '../artifacts/artifact-service.js';
import type { DeploymentGate, GateRequest, GateVerdict, Requester } from '../deployments/deployment-gate.js';
import type { DeploymentService } from '../deployments/deployment-service.js';
import type { DeploymentStore } from '../deployments/deployment-store.js';
import { environmentOf } from '../environments/environment-specs.js';
import { checkBreakGlass, decide, rulesOf } from './approval-rules.js';
import type { ApprovalRecord, ApprovalRequestRecord, ApprovalStore } from './approval-store.js';
import { identityOf, isRequester, mayApprove } from './approver-identity.js';
import { SqlApprovalStore } from './sql-approval-store.js';

export interface ApprovalDeps {
  store: ApprovalStore;
  deployments: Pick<DeploymentStore, 'find' | 'supersedeQueued'>;
  service: Pick<DeploymentService, 'configAt' | 'wakeDeployer'>;
  apps: Pick<AppService, 'getById' | 'get'>;
  events: EventStore;
  logger?: Pick<Logger, 'warn'>;
  now?: () => Date;
}

/** How often waiting requests are looked at for their `expires` (reads look too, so this is a floor). */
const SWEEP_MS = 60_000;

/**
 * Protected environments: decides each deployment request (queue, wait for approvals, refuse during
 * a freeze), records what waits, and takes approvals and rejections. An approval is for the artifact
 * digest of the request it was given on; it never counts for another request or digest.
 */
export class ApprovalService implements DeploymentGate {
  private readonly now: () => Date;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly d: ApprovalDeps) {
    this.now = d.now ?? (() => new Date());
  }

  async check(r: GateRequest): Promise<GateVerdict> {
    // Gantry's own rollback after a failed check restores what served before: nothing to read.
    if (r.trigger === 'auto-rollback') return { kind: 'queue' };
    // The configs DeploymentService keeps in memory: a rollback pays no database round trip here.
    const head = r.app.headSha ? await this.d.service.configAt(r.app, r.app.headSha) : undefined;
    return decide(r, rulesOf(environmentOf(head, r.env), r.envConfig), this.now());
  }

  async recorded(d: Deployment, r: GateRequest, verdict: GateVerdict): Promise<void> {
    if (verdict.kind === 'wait') {
      const a = verdict.approvals;
      await this.d.store.addRequest({
        deploymentId: d.id,
        appId: d.appId,
        env: d.env,
        sha: d.sha,
        digest: d.digest!,
        requester: verdict.requester,
        required: a.required,
        from: a.from,
        selfApproval: a.self_approval,
        expiresMs: a.expires ?? null,
      });
      await this.event('approval.requested', d, d.actor, {
        requester: verdict.requester,
        required: a.required,
        from: a.from,
        expiresAt: a.expires ? new Date(Date.parse(d.requestedAt) + a.expires).toISOString() : null,
      });
    }
    if (verdict.kind === 'wait' || (verdict.kind === 'queue' && verdict.supersedeWaiting)) {
      for (const id of await this.d.store.supersedeWaiting(d.appId, d.env, d.id)) {
        const old = await this.d.deployments.find(id);
        if (old) await this.event('deployment.superseded', old, 'gantry', { by: d.id });
      }
    }
    if (verdict.kind === 'queue' && verdict.breakGlass) {
      const { by, reason, skipped } = verdict.breakGlass;
      await this.event('deployment.break_glass', d, by, { reason, skipped, trigger: r.trigger });
    }
  }

  checkOverride(principal: Requester | undefined, override: DeploymentOverride): void {
    checkBreakGlass(principal, override);
  }

  /** The deployment's approval in brief, when it waited or waits for one. */
  async approvalOf(d: Deployment): Promise<DeploymentApproval | null> {
    const req = await this.d.store.findRequest(d.id);
    if (!req) return null;
    const s = this.stateOf(d, req, await this.d.store.list(d.id));
    return {
      requester: s.requester,
      required: s.required,
      approved: s.approved,
      approvers: [...new Set(s.approvals.filter((a) => a.counts).map((a) => a.approver))],
      expiresAt: expiresAt(req),
      supersededBy: s.supersededBy,
    };
  }

  /** Where a request stands: the rules, each decision and whether it counts now. */
  async state(id: string): Promise<ApprovalState> {
    const { dep, req } = await this.find(id);
    return this.stateOf(dep, req, await this.d.store.list(id));
  }

  /** Requests waiting for approval, oldest first; of one app (and environment) when given. */
  async pending(filter: { app?: string; env?: string }): Promise<ApprovalState[]> {
    const appId = filter.app ? (await this.d.apps.get(filter.app)).id : undefined;
    await this.expireDue(await this.d.store.waiting({ appId, env: filter.env }));
    const reqs = await this.d.store.waiting({ appId, env: filter.env });
    const all = await this.d.store.listFor(reqs.map((r) => r.deploymentId));
    const states: ApprovalState[] = [];
    for (const req of reqs) {
      const dep = await this.d.deployments.find(req.deploymentId);
      if (dep)
        states.push(
          this.stateOf(
            dep,
            req,
            all.filter((a) => a.deploymentId === req.deploymentId),
          ),
        );
    }
    return states;
  }

  async approve(id: string, principal: Requester, body: ApprovalDecisionBody): Promise<ApprovalState> {
    const { dep, req } = await this.decidable(id, principal, 'approve');
    const who = identityOf(principal);
    if (!req.selfApproval && isRequester(req.requester, principal))
      throw new NotAllowed(
        `${who} asked for deployment ${id} and may not approve it (self_approval is false for "${dep.env}"); another approver must`,
      );
    if (body.digest !== undefined && body.digest !== req.digest)
      throw new Conflict(
        `deployment ${id} deploys ${req.digest}, not ${body.digest}, which you reviewed; review it again (\`gantry approvals ${id}\`)`,
        { digest: req.digest },
      );
    const before = this.stateOf(dep, req, await this.d.store.list(id));
    if (before.approvals.some((a) => a.approver === who && a.counts))
      throw new Conflict(
        `${who} already approved deployment ${id} (${before.approved} of ${before.required})`,
      );
    // The approval that would release the request is refused during a freeze: it would be a new change.
    if (before.approved + 1 >= req.required) await this.refuseIfFrozen(dep);
    await this.d.store.add({
      deploymentId: id,
      appId: dep.appId,
      env: dep.env,
      digest: req.digest,
      approver: who,
      verdict: 'approved',
      comment: body.comment ?? null,
    });
    const after = this.stateOf(dep, req, await this.d.store.list(id));
    await this.event('approval.approved', dep, who, {
      comment: body.comment ?? null,
      approved: after.approved,
      required: after.required,
    });
    if (after.approved >= req.required) await this.release(dep, after);
    return this.state(id);
  }

  async reject(id: string, principal: Requester, body: ApprovalDecisionBody): Promise<ApprovalState> {
    const comment = body.comment?.trim();
    if (!comment)
      throw new InvalidInput(
        'a rejection needs a comment saying why (`gantry reject <deployment> -m "<why>"`)',
        { field: 'comment' },
      );
    const { dep, req } = await this.decidable(id, principal, 'reject');
    if (body.digest !== undefined && body.digest !== req.digest)
      throw new Conflict(`deployment ${id} deploys ${req.digest}, not ${body.digest}, which you reviewed`, {
        digest: req.digest,
      });
    const who = identityOf(principal);
    const reason = `rejected by ${who}: ${comment}`;
    if (!(await this.d.store.settle(id, 'rejected', reason))) throw await this.notWaiting(id, 'reject');
    await this.d.store.add({
      deploymentId: id,
      appId: dep.appId,
      env: dep.env,
      digest: req.digest,
      approver: who,
      verdict: 'rejected',
      comment,
    });
    await this.event('approval.rejected', dep, who, { comment });
    await this.event('deployment.rejected', dep, who, { reason, by: who, comment });
    return this.state(id);
  }

  /** Looks at waiting requests for their `expires` every minute, until `stop`. */
  startSweeper(everyMs = SWEEP_MS): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      this.d.store
        .waiting({})
        .then((reqs) => this.expireDue(reqs))
        .catch((err: unknown) => this.d.logger?.warn({ err }, 'could not expire approval requests'));
    }, everyMs);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  /** Requests that waited longer than their `expires` stop: rejected, saying so. */
  private async expireDue(reqs: readonly ApprovalRequestRecord[]): Promise<void> {
    const now = this.now().getTime();
    for (const req of reqs) {
      if (req.expiresMs === null || now - Date.parse(req.createdAt) < req.expiresMs) continue;
      const reason = `expired: not approved within ${formatDuration(req.expiresMs)} (approvals.expires); ask again with \`gantry deploy ${req.env} ${req.sha.slice(0, 12)}\``;
      if (!(await this.d.store.settle(req.deploymentId, 'rejected', reason))) continue;
      const dep = await this.d.deployments.find(req.deploymentId);
      if (dep) await this.event('deployment.rejected', dep, 'gantry', { reason, expired: true });
    }
  }

  private async refuseIfFrozen(dep: Deployment): Promise<void> {
    const app = await this.d.apps.getById(dep.appId);
    const atSha = environmentOf(await this.d.service.configAt(app, dep.sha), dep.env);
    const head = app.headSha ? await this.d.service.configAt(app, app.headSha) : undefined;
    const rules = rulesOf(environmentOf(head, dep.env), atSha);
    const freeze = rules.freeze?.length ? activeFreeze(rules.freeze, this.now()) : null;
    if (freeze)
      throw new Conflict(`${freezeRefusal(dep.env, freeze)}; approve again when it ends`, {
        freeze: { ...freeze },
      });
  }

  /** Enough approvals: queued (once, however many approve at the same time), then the usual queue rules. */
  private async release(dep: Deployment, state: ApprovalState): Promise<void> {
    if (!(await this.d.store.settle(dep.id, 'queued'))) return;
    const approvers = [...new Set(state.approvals.filter((a) => a.counts).map((a) => a.approver))];
    await this.event('deployment.approved', dep, 'gantry', { approvers });
    await this.event('deployment.queued', dep, dep.actor, {
      previousSha: dep.previousSha,
      forced: dep.forced,
    });
    const app = await this.d.apps.getById(dep.appId);
    const queue = environmentOf(await this.d.service.configAt(app, dep.sha), dep.env)?.queue ?? 'latest';
    if (queue === 'latest') {
      for (const id of await this.d.deployments.supersedeQueued(dep.appId, dep.env, dep.id)) {
        const old = await this.d.deployments.find(id);
        if (old) await this.event('deployment.superseded', old, 'gantry', { by: dep.id });
      }
    }
    this.d.service.wakeDeployer();
  }

  private async find(id: string) {
    let dep = await this.d.deployments.find(id);
    if (!dep) throw new NotFound(`no deployment "${id}"; see \`gantry history <env>\``);
    const req = await this.d.store.findRequest(id);
    if (!req)
      throw new NotFound(
        `deployment ${id} did not wait for approval: "${dep.env}" had no approvals for it (it is ${dep.status})`,
      );
    if (dep.status === 'awaiting_approval') {
      await this.expireDue([req]);
      dep = (await this.d.deployments.find(id)) ?? dep;
    }
    return { dep, req };
  }

  /** A request the principal may decide on now, or why not. */
  private async decidable(id: string, principal: Requester, what: 'approve' | 'reject') {
    const { dep, req } = await this.find(id);
    if (dep.status !== 'awaiting_approval') throw await this.notWaiting(id, what);
    if (!mayApprove(req.from, principal))
      throw new NotAllowed(
        `${identityOf(principal)} may not ${what} deployments to "${dep.env}": its approvals come from ${req.from.join(', ')}`,
      );
    return { dep, req };
  }

  private async notWaiting(id: string, what: string): Promise<Conflict> {
    const dep = await this.d.deployments.find(id);
    const req = await this.d.store.findRequest(id);
    if (dep?.status === 'superseded' && req?.supersededBy)
      return new Conflict(
        `deployment ${id} no longer waits: request ${req.supersededBy} replaced it (a newer request for "${dep.env}"); ${what} that one: \`gantry ${what} ${req.supersededBy}\``,
        { supersededBy: req.supersededBy },
      );
    return new Conflict(
      `deployment ${id} no longer waits for approval: it is ${dep?.status ?? 'gone'}${dep?.error ? ` (${dep.error})` : ''}`,
      { status: dep?.status ?? null },
    );
  }

  private stateOf(dep: Deployment, req: ApprovalRequestRecord, all: ApprovalRecord[]): ApprovalState {
    const now = this.now().getTime();
    const approvals = all.map((a) => {
      const why =
        a.verdict !== 'approved'
          ? null
          : a.digest !== req.digest
            ? `it approved ${a.digest}, and the request deploys ${req.digest}`
            : req.expiresMs !== null && now - Date.parse(a.createdAt) >= req.expiresMs
              ? `expired: older than ${formatDuration(req.expiresMs)}`
              : !req.selfApproval && a.approver === req.requester
                ? 'given by the requester'
                : null;
      return { ...a, counts: a.verdict === 'approved' && why === null, why };
    });
    return {
      deploymentId: dep.id,
      app: dep.app,
      env: dep.env,
      sha: dep.sha,
      digest: req.digest,
      status: dep.status,
      requester: req.requester,
      required: req.required,
      approved: new Set(approvals.filter((a) => a.counts).map((a) => a.approver)).size,
      from: req.from,
      selfApproval: req.selfApproval,
      expiresMs: req.expiresMs,
      supersededBy: req.supersededBy,
      approvals: approvals.map(({ appId: _a, env: _e, ...a }) => a),
    };
  }

  private event(type: EventType, d: Deployment, actor: string, data: object) {
    return this.d.events.append({
      type,
      appId: d.appId,
      subject: d.id,
      actor,
      data: { env: d.env, sha: d.sha, digest: d.digest, trigger: d.trigger, ...data },
    });
  }
}

function expiresAt(req: ApprovalRequestRecord): string | null {
  return req.expiresMs === null ? null : new Date(Date.parse(req.createdAt) + req.expiresMs).toISOString();
}

/** Builds the service on a database; the artifacts of waiting requests are kept from prune. */
export function createApprovals(
  db: Db,
  deps: Omit<ApprovalDeps, 'store'> & { artifacts: Pick<ArtifactService, 'addRetention'> },
): ApprovalService {
  const store = new SqlApprovalStore(db);
  deps.artifacts.addRetention(() => store.waitingArtifactIds());
  const service = new ApprovalService({ ...deps, store });
  service.startSweeper();
  return service;
}
