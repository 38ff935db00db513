import type { Artifact } from '@gantry/contracts';
import type { Db } from '../../db/database.js';
import { nowIso } from '../../ids.js';
import { toArtifact } from '../artifacts/sql-artifact-store.js';

/** Deployments that will still use their artifact: waiting for approval, queued, or running now. */
export const IN_FLIGHT = ['awaiting_approval', 'queued', 'running'] as const;

export interface InFlightDeployment {
  id: string;
  appId: string;
  env: string;
  sha: string;
  artifactId: string | null;
  status: (typeof IN_FLIGHT)[number];
}

/** The queries retention makes beside the other stores' (one set for SQLite and PostgreSQL). */
export interface RetentionStore {
  /** Every artifact not collected yet, of every app. */
  liveArtifacts(): Promise<Artifact[]>;
  /** Every app × environment that ever had a successful deployment. */
  environments(): Promise<{ appId: string; env: string }[]>;
  inFlight(): Promise<InFlightDeployment[]>;
  /**
   * Marks the artifact collected, unless it already is or a deployment in flight names it (asked
   * for since the plan was made): true when this call collected it.
   */
  collect(id: string): Promise<boolean>;
  /** Undoes `collect` when its storage could not be deleted: live again, current again if nothing replaced it. */
  restore(a: Artifact): Promise<void>;
  /** Whether another live artifact has the same bytes (the same tarball digest, or the same image reference). */
  shared(a: Artifact): Promise<boolean>;
}

export class SqlRetentionStore implements RetentionStore {
  constructor(private readonly db: Db) {}

  async liveArtifacts(): Promise<Artifact[]> {
    const rows = await this.db
      .selectFrom('artifacts')
      .innerJoin('apps', 'apps.id', 'artifacts.app_id')
      .selectAll('artifacts')
      .select('apps.name as app_name')
      .where('artifacts.pruned_at', 'is', null)
      .orderBy('artifacts.id')
      .execute();
    return rows.map(toArtifact);
  }

  async environments(): Promise<{ appId: string; env: string }[]> {
    const rows = await this.db
      .selectFrom('deployments')
      .select(['app_id', 'env'])
      .where('status', '=', 'succeeded')
      .groupBy(['app_id', 'env'])
      .orderBy('app_id')
      .orderBy('env')
      .execute();
    return rows.map((r) => ({ appId: r.app_id, env: r.env }));
  }

  async inFlight(): Promise<InFlightDeployment[]> {
    const rows = await this.db
      .selectFrom('deployments')
      .select(['id', 'app_id', 'env', 'sha', 'artifact_id', 'status'])
      .where('status', 'in', IN_FLIGHT)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      appId: r.app_id,
      env: r.env,
      sha: r.sha,
      artifactId: r.artifact_id,
      status: r.status as InFlightDeployment['status'],
    }));
  }

  async collect(id: string): Promise<boolean> {
    const res = await this.db
      .updateTable('artifacts')
      .set({ pruned_at: nowIso(), current: 0 })
      .where('id', '=', id)
      .where('pruned_at', 'is', null)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('deployments')
              .select('deployments.id')
              .whereRef('deployments.artifact_id', '=', 'artifacts.id')
              .where('deployments.status', 'in', IN_FLIGHT),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async restore(a: Artifact): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const replaced = await trx
        .selectFrom('artifacts')
        .select('id')
        .where('app_id', '=', a.appId)
        .where('sha', '=', a.sha)
        .where('current', '=', 1)
        .executeTakeFirst();
      await trx
        .updateTable('artifacts')
        .set({ pruned_at: null, current: a.current && !replaced ? 1 : 0 })
        .where('id', '=', a.id)
        .execute();
    });
  }

  async shared(a: Artifact): Promise<boolean> {
    let q = this.db
      .selectFrom('artifacts')
      .select('id')
      .where('pruned_at', 'is', null)
      .where('id', '!=', a.id)
      .where('kind', '=', a.kind);
    q = a.kind === 'image' ? q.where('reference', '=', a.reference) : q.where('digest', '=', a.digest);
    return (await q.limit(1).executeTakeFirst()) !== undefined;
  }
}
