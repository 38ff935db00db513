import type { Commit } from '@gantry/contracts';
import type { Selectable } from 'kysely';
import type { Db } from '../../db/database.js';
import type { CommitsTable, PushesTable } from '../../db/schema.js';
import { newId, nowIso } from '../../ids.js';
import type { CommitStore, NewPush, Push } from './commit-store.js';

export class SqlCommitStore implements CommitStore {
  constructor(private readonly db: Db) {}

  async recordPush(p: NewPush): Promise<Push> {
    const row: PushesTable = {
      id: newId('psh'),
      app_id: p.appId,
      ref: p.ref,
      before_sha: p.beforeSha,
      after_sha: p.afterSha,
      forced: p.forced ? 1 : 0,
      source: p.source,
      commit_count: p.commitCount,
      dropped: JSON.stringify(p.dropped),
      created_at: nowIso(),
    };
    await this.db.insertInto('pushes').values(row).execute();
    return toPush(row);
  }

  async insertMany(commits: Omit<Commit, 'seenAt'>[]): Promise<string[]> {
    const fresh: string[] = [];
    const seenAt = nowIso();
    for (const c of commits) {
      const res = await this.db
        .insertInto('commits')
        .values({
          app_id: c.appId,
          sha: c.sha,
          parents: JSON.stringify(c.parents),
          author_name: c.authorName,
          author_email: c.authorEmail,
          authored_at: c.authoredAt,
          committed_at: c.committedAt,
          message: c.message,
          seen_at: seenAt,
          push_id: c.pushId,
        })
        .onConflict((oc) => oc.columns(['app_id', 'sha']).doNothing())
        .executeTakeFirst();
      if (Number(res.numInsertedOrUpdatedRows ?? 0) > 0) fresh.push(c.sha);
    }
    return fresh;
  }

  async list(appId: string, opts: { limit?: number } = {}): Promise<Commit[]> {
    const rows = await this.db
      .selectFrom('commits')
      .selectAll()
      .where('app_id', '=', appId)
      .orderBy('seen_at', 'desc')
      .orderBy('committed_at', 'desc')
      .limit(Math.min(opts.limit ?? 50, 1000))
      .execute();
    return rows.map(toCommit);
  }

  async find(appId: string, sha: string): Promise<Commit | undefined> {
    const row = await this.db
      .selectFrom('commits')
      .selectAll()
      .where('app_id', '=', appId)
      .where('sha', '=', sha)
      .executeTakeFirst();
    return row && toCommit(row);
  }

  async pushes(appId: string, opts: { limit?: number } = {}): Promise<Push[]> {
    const rows = await this.db
      .selectFrom('pushes')
      .selectAll()
      .where('app_id', '=', appId)
      .orderBy('id', 'desc')
      .limit(opts.limit ?? 50)
      .execute();
    return rows.map(toPush);
  }
}

function toCommit(r: Selectable<CommitsTable>): Commit {
  return {
    appId: r.app_id,
    sha: r.sha,
    parents: JSON.parse(r.parents) as string[],
    authorName: r.author_name,
    authorEmail: r.author_email,
    authoredAt: r.authored_at,
    committedAt: r.committed_at,
    message: r.message,
    seenAt: r.seen_at,
    pushId: r.push_id,
  };
}

function toPush(r: Selectable<PushesTable>): Push {
  return {
    id: r.id,
    appId: r.app_id,
    ref: r.ref,
    beforeSha: r.before_sha,
    afterSha: r.after_sha,
    forced: Number(r.forced) === 1,
    source: r.source,
    commitCount: Number(r.commit_count),
    dropped: JSON.parse(r.dropped) as string[],
    createdAt: r.created_at,
  };
}
