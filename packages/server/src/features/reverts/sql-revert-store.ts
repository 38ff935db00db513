import type { Revert, RevertStep } from '@gantry/contracts';
import type { Selectable } from 'kysely';
import type { Db } from '../../db/database.js';
import { isUniqueViolation } from '../../db/db-errors.js';
import type { RevertsTable } from '../../db/schema.js';
import { newId, nowIso } from '../../ids.js';
import type { NewRevert, RevertChange, RevertStore } from './revert-store.js';

const FINISHED = ['reverted', 'proposed', 'skipped', 'failed'];

export class SqlRevertStore implements RevertStore {
  constructor(private readonly db: Db) {}

  private select() {
    return this.db
      .selectFrom('reverts')
      .innerJoin('apps', 'apps.id', 'reverts.app_id')
      .selectAll('reverts')
      .select('apps.name as app_name');
  }

  async insert(r: NewRevert): Promise<Revert | undefined> {
    const id = newId('rev');
    const at = nowIso();
    try {
      await this.db
        .insertInto('reverts')
        .values({
          id,
          app_id: r.appId,
          env: r.env,
          deployment_id: r.deploymentId,
          sha: r.sha,
          good_sha: r.goodSha,
          check_name: r.check,
          mode: r.mode,
          status: 'guarding',
          blamed_sha: null,
          revert_sha: null,
          branch: null,
          incident_id: r.incidentId,
          why: null,
          steps: '[]',
          created_at: at,
          updated_at: at,
        })
        .execute();
    } catch (e) {
      if (isUniqueViolation(e)) return undefined;
      throw e;
    }
    return this.find(id);
  }

  async find(id: string): Promise<Revert | undefined> {
    const row = await this.select().where('reverts.id', '=', id).executeTakeFirst();
    return row && toRevert(row);
  }

  async list(q: { appId?: string; limit?: number }): Promise<Revert[]> {
    let query = this.select()
      .orderBy('reverts.id', 'desc')
      .limit(q.limit ?? 50);
    if (q.appId) query = query.where('reverts.app_id', '=', q.appId);
    return (await query.execute()).map(toRevert);
  }

  async unfinished(): Promise<Revert[]> {
    const rows = await this.select()
      .where('reverts.status', 'not in', FINISHED)
      .orderBy('reverts.id')
      .execute();
    return rows.map(toRevert);
  }

  async update(id: string, change: RevertChange): Promise<Revert> {
    const current = await this.find(id);
    if (!current) throw new Error(`no revert ${id}`);
    const at = nowIso();
    const steps: RevertStep[] = change.step ? [...current.steps, { ...change.step, at }] : current.steps;
    await this.db
      .updateTable('reverts')
      .set({
        ...(change.status !== undefined && { status: change.status }),
        ...(change.blamedSha !== undefined && { blamed_sha: change.blamedSha }),
        ...(change.revertSha !== undefined && { revert_sha: change.revertSha }),
        ...(change.branch !== undefined && { branch: change.branch }),
        ...(change.why !== undefined && { why: change.why }),
        ...(change.goodSha !== undefined && { good_sha: change.goodSha }),
        ...(change.incidentId !== undefined && { incident_id: change.incidentId }),
        steps: JSON.stringify(steps),
        updated_at: at,
      })
      .where('id', '=', id)
      .execute();
    return (await this.find(id))!;
  }

  async claimCommit(appId: string, sha: string, revertId: string): Promise<{ mine: boolean; by: string }> {
    try {
      await this.db
        .insertInto('reverted_commits')
        .values({ app_id: appId, sha, revert_id: revertId })
        .execute();
      return { mine: true, by: revertId };
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
    const row = await this.db
      .selectFrom('reverted_commits')
      .select('revert_id')
      .where('app_id', '=', appId)
      .where('sha', '=', sha)
      .executeTakeFirstOrThrow();
    return { mine: row.revert_id === revertId, by: row.revert_id };
  }
}

function toRevert(r: Selectable<RevertsTable> & { app_name: string }): Revert {
  return {
    id: r.id,
    appId: r.app_id,
    app: r.app_name,
    env: r.env,
    deploymentId: r.deployment_id,
    sha: r.sha,
    goodSha: r.good_sha,
    check: r.check_name,
    mode: r.mode as Revert['mode'],
    status: r.status as Revert['status'],
    blamedSha: r.blamed_sha,
    revertSha: r.revert_sha,
    branch: r.branch,
    incidentId: r.incident_id,
    why: r.why,
    steps: JSON.parse(r.steps) as RevertStep[],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
