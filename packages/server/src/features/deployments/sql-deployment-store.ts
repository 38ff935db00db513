import type {
  Deployment,
  DeploymentPhase,
  DeploymentStatus,
  DeploymentTrigger,
  VerificationStatus,
} from '@gantry/contracts';
import type { Selectable } from 'kysely';
import type { Db } from '../../db/database.js';
import type { DeploymentsTable } from '../../db/schema.js';
import { newId, nowIso } from '../../ids.js';
import type { DeploymentFinish, DeploymentStore, NewDeployment } from './deployment-store.js';

type Row = Selectable<DeploymentsTable> & { app_name: string };

export class SqlDeploymentStore implements DeploymentStore {
  constructor(private readonly db: Db) {}

  private select() {
    return this.db
      .selectFrom('deployments')
      .innerJoin('apps', 'apps.id', 'deployments.app_id')
      .selectAll('deployments')
      .select('apps.name as app_name');
  }

  async insert(d: NewDeployment): Promise<Deployment> {
    const id = newId('dep');
    const at = d.at ?? nowIso();
    const done = d.status !== 'queued' && d.status !== 'awaiting_approval';
    await this.db
      .insertInto('deployments')
      .values({
        id,
        app_id: d.appId,
        env: d.env,
        sha: d.sha,
        previous_sha: d.previousSha,
        artifact_id: d.artifactId,
        digest: d.digest,
        trigger: d.trigger,
        actor: d.actor,
        reason: d.reason,
        tag: d.tag,
        forced: d.forced ? 1 : 0,
        remediates: d.remediates ?? null,
        status: d.status,
        kind: null,
        phases: '[]',
        error: d.error ?? null,
        runner_id: null,
        verification: null,
        requested_at: at,
        started_at: done ? at : null,
        finished_at: done ? at : null,
      })
      .execute();
    return (await this.find(id))!;
  }

  async find(id: string): Promise<Deployment | undefined> {
    const row = await this.select().where('deployments.id', '=', id).executeTakeFirst();
    return row && toDeployment(row);
  }

  async list(q: {
    appId?: string;
    env?: string;
    status?: DeploymentStatus;
    limit?: number;
    before?: string;
  }): Promise<Deployment[]> {
    let query = this.select()
      .orderBy('deployments.id', 'desc')
      .limit(Math.min(q.limit ?? 50, 1000));
    if (q.appId) query = query.where('deployments.app_id', '=', q.appId);
    if (q.env) query = query.where('deployments.env', '=', q.env);
    if (q.status) query = query.where('deployments.status', '=', q.status);
    if (q.before) query = query.where('deployments.id', '<', q.before);
    return (await query.execute()).map(toDeployment);
  }

  async queued(appId: string, env: string): Promise<Deployment[]> {
    const rows = await this.select()
      .where('deployments.app_id', '=', appId)
      .where('deployments.env', '=', env)
      .where('deployments.status', '=', 'queued')
      .orderBy('deployments.id', 'asc')
      .execute();
    return rows.map(toDeployment);
  }

  async queuedEnvironments(): Promise<{ appId: string; env: string }[]> {
    const rows = await this.db
      .selectFrom('deployments')
      .select(['app_id', 'env'])
      .where('status', '=', 'queued')
      .groupBy(['app_id', 'env'])
      .execute();
    return rows.map((r) => ({ appId: r.app_id, env: r.env }));
  }

  async supersedeQueued(appId: string, env: string, keepId: string): Promise<string[]> {
    const rows = await this.db
      .updateTable('deployments')
      .set({ status: 'superseded', finished_at: nowIso() })
      .where('app_id', '=', appId)
      .where('env', '=', env)
      .where('status', '=', 'queued')
      // Only older requests: ids are time-ordered, so the request recorded last always survives,
      // however concurrent inserts and supersedes interleave.
      .where('id', '<', keepId)
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  async start(id: string, runnerId: string): Promise<boolean> {
    const res = await this.db
      .updateTable('deployments')
      .set({ status: 'running', started_at: nowIso(), runner_id: runnerId })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async setPhases(id: string, phases: DeploymentPhase[]): Promise<void> {
    await this.db
      .updateTable('deployments')
      .set({ phases: JSON.stringify(phases) })
      .where('id', '=', id)
      .execute();
  }

  async finish(id: string, f: DeploymentFinish): Promise<boolean> {
    const res = await this.db
      .updateTable('deployments')
      .set({
        status: f.status,
        kind: f.kind ?? null,
        error: f.error ?? null,
        finished_at: nowIso(),
        ...(f.verification ? { verification: f.verification } : {}),
      })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async running(): Promise<Deployment[]> {
    return (await this.select().where('deployments.status', '=', 'running').execute()).map(toDeployment);
  }

  async lastSucceeded(
    appId: string,
    env: string,
    opts: { otherThan?: string } = {},
  ): Promise<Deployment | undefined> {
    let q = this.select()
      .where('deployments.app_id', '=', appId)
      .where('deployments.env', '=', env)
      .where('deployments.status', '=', 'succeeded')
      .orderBy('deployments.finished_at', 'desc')
      .orderBy('deployments.id', 'desc')
      .limit(1);
    if (opts.otherThan) q = q.where('deployments.sha', '!=', opts.otherThan);
    const row = await q.executeTakeFirst();
    return row && toDeployment(row);
  }

  async hasSucceeded(appId: string, env: string, sha: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('deployments')
      .select('id')
      .where('app_id', '=', appId)
      .where('env', '=', env)
      .where('sha', '=', sha)
      .where('status', '=', 'succeeded')
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async recentArtifactIds(n: number): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('deployments')
      .select(['app_id', 'env', 'artifact_id'])
      .where('status', '=', 'succeeded')
      .where('artifact_id', 'is not', null)
      .orderBy('id', 'desc')
      .execute();
    const perEnv = new Map<string, number>();
    const keep = new Set<string>();
    for (const r of rows) {
      const key = `${r.app_id}/${r.env}`;
      const seen = perEnv.get(key) ?? 0;
      if (seen >= n) continue;
      perEnv.set(key, seen + 1);
      keep.add(r.artifact_id!);
    }
    return keep;
  }

  async verifying(): Promise<Deployment[]> {
    const rows = await this.select().where('deployments.verification', '=', 'verifying').execute();
    return rows.map(toDeployment);
  }

  async setVerification(
    id: string,
    status: VerificationStatus,
    from?: VerificationStatus | null,
  ): Promise<boolean> {
    let q = this.db.updateTable('deployments').set({ verification: status }).where('id', '=', id);
    if (from !== undefined)
      q = from === null ? q.where('verification', 'is', null) : q.where('verification', '=', from);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
}

function toDeployment(r: Row): Deployment {
  return {
    id: r.id,
    appId: r.app_id,
    app: r.app_name,
    env: r.env,
    sha: r.sha,
    previousSha: r.previous_sha,
    artifactId: r.artifact_id,
    digest: r.digest,
    trigger: r.trigger as DeploymentTrigger,
    actor: r.actor,
    reason: r.reason,
    tag: r.tag,
    forced: Number(r.forced) === 1,
    remediates: r.remediates,
    status: r.status as DeploymentStatus,
    kind: r.kind,
    verification: (r.verification ?? null) as VerificationStatus | null,
    phases: JSON.parse(r.phases) as DeploymentPhase[],
    error: r.error,
    requestedAt: r.requested_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}
