import type { Artifact, ArtifactKind } from '@gantry/contracts';
import type { Selectable } from 'kysely';
import type { Db } from '../../db/database.js';
import type { ArtifactsTable } from '../../db/schema.js';
import { newId, nowIso } from '../../ids.js';
import type { ArtifactStore, NewArtifact } from './artifact-store.js';

type ArtifactRow = Selectable<ArtifactsTable> & { app_name: string };

export class SqlArtifactStore implements ArtifactStore {
  constructor(private readonly db: Db) {}

  private select(db: Db = this.db) {
    return db
      .selectFrom('artifacts')
      .innerJoin('apps', 'apps.id', 'artifacts.app_id')
      .selectAll('artifacts')
      .select('apps.name as app_name');
  }

  async insertCurrent(a: NewArtifact, within?: Db): Promise<Artifact> {
    const id = newId('art');
    const write = async (trx: Db) => {
      await trx
        .updateTable('artifacts')
        .set({ current: 0 })
        .where('app_id', '=', a.appId)
        .where('sha', '=', a.sha)
        .execute();
      await trx
        .insertInto('artifacts')
        .values({
          id,
          app_id: a.appId,
          sha: a.sha,
          kind: a.kind ?? 'tarball',
          digest: a.digest,
          reference: a.reference ?? null,
          size: a.size,
          build_id: a.buildId,
          created_at: nowIso(),
          current: 1,
          pruned_at: null,
        })
        .execute();
    };
    if (within) await write(within);
    else await this.db.transaction().execute(write);
    return (await this.find(id, within))!;
  }

  async findCurrent(appId: string, sha: string): Promise<Artifact | undefined> {
    const row = await this.select()
      .where('artifacts.app_id', '=', appId)
      .where('artifacts.sha', '=', sha)
      .where('artifacts.current', '=', 1)
      .where('artifacts.pruned_at', 'is', null)
      .executeTakeFirst();
    return row && toArtifact(row);
  }

  async find(id: string, db?: Db): Promise<Artifact | undefined> {
    const row = await this.select(db).where('artifacts.id', '=', id).executeTakeFirst();
    return row && toArtifact(row);
  }

  async list(q: {
    appId?: string;
    sha?: string;
    limit?: number;
    includePruned?: boolean;
  }): Promise<Artifact[]> {
    let query = this.select()
      .orderBy('artifacts.id', 'desc')
      .limit(Math.min(q.limit ?? 50, 1000));
    if (q.appId) query = query.where('artifacts.app_id', '=', q.appId);
    if (q.sha) query = query.where('artifacts.sha', 'like', `${q.sha}%`);
    if (!q.includePruned) query = query.where('artifacts.pruned_at', 'is', null);
    return (await query.execute()).map(toArtifact);
  }

  async markPruned(id: string): Promise<void> {
    await this.db
      .updateTable('artifacts')
      .set({ pruned_at: nowIso(), current: 0 })
      .where('id', '=', id)
      .execute();
  }

  async liveDigests(): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('artifacts')
      .select('digest')
      .where('pruned_at', 'is', null)
      .where('kind', '=', 'tarball')
      .execute();
    return new Set(rows.map((r) => r.digest));
  }
}

export function toArtifact(r: ArtifactRow): Artifact {
  return {
    id: r.id,
    appId: r.app_id,
    app: r.app_name,
    sha: r.sha,
    kind: r.kind as ArtifactKind,
    digest: r.digest,
    reference: r.reference ?? null,
    size: Number(r.size),
    buildId: r.build_id,
    createdAt: r.created_at,
    current: Number(r.current) === 1,
    prunedAt: r.pruned_at,
  };
}
