import type { Release, ReleaseChange, ReleaseChangeSpec, ReleaseStatus } from '@gantry/contracts';
import type { Db } from '../../db/database.js';
import { newId, nowIso } from '../../ids.js';

/** Releases and their changes. Takes a `Db` so it can run inside a toggle transaction. */
export class SqlReleaseStore {
  constructor(private readonly db: Db) {}

  /** Inserts a draft; a name already taken (also by a concurrent insert) throws a unique violation. */
  async insert(name: string, notes: string, actor: string): Promise<Release> {
    await this.db
      .insertInto('releases')
      .values({
        id: newId('rel'),
        name,
        notes,
        status: 'draft',
        scheduled_at: null,
        applied_at: null,
        reverted_at: null,
        created_by: actor,
        created_at: nowIso(),
        error: null,
      })
      .execute();
    return (await this.findByName(name))!;
  }

  /** The id of the release with this name, without its changes. */
  async idByName(name: string): Promise<string | undefined> {
    const r = await this.db.selectFrom('releases').select('id').where('name', '=', name).executeTakeFirst();
    return r?.id;
  }

  async findByName(name: string): Promise<Release | undefined> {
    return (await this.findWithAppIds(name))?.release;
  }

  /** The release and, per change (in order), the id of its app. */
  async findWithAppIds(name: string): Promise<{ release: Release; appIds: string[] } | undefined> {
    const r = await this.db.selectFrom('releases').selectAll().where('name', '=', name).executeTakeFirst();
    if (!r) return undefined;
    const changes = await this.db
      .selectFrom('release_changes')
      .innerJoin('apps', 'apps.id', 'release_changes.app_id')
      .selectAll('release_changes')
      .select('apps.name as app_name')
      .where('release_id', '=', r.id)
      .orderBy('idx')
      .execute();
    const release: Release = {
      id: r.id,
      name: r.name,
      notes: r.notes,
      status: r.status as ReleaseStatus,
      scheduledAt: r.scheduled_at,
      appliedAt: r.applied_at,
      revertedAt: r.reverted_at,
      createdBy: r.created_by,
      createdAt: r.created_at,
      error: r.error,
      changes: changes.map(
        (c): ReleaseChange => ({
          idx: Number(c.idx),
          app: c.app_name,
          toggle: c.toggle,
          env: c.env,
          change: JSON.parse(c.change) as ReleaseChangeSpec,
          before: c.before ? (JSON.parse(c.before) as ReleaseChange['before']) : null,
        }),
      ),
    };
    return { release, appIds: changes.map((c) => c.app_id) };
  }

  async list(): Promise<Release[]> {
    const names = await this.db.selectFrom('releases').select('name').orderBy('created_at', 'desc').execute();
    return Promise.all(names.map(async (n) => (await this.findByName(n.name))!));
  }

  async addChange(releaseId: string, appId: string, toggle: string, env: string, change: ReleaseChangeSpec) {
    const last = await this.db
      .selectFrom('release_changes')
      .select((eb) => eb.fn.max('idx').as('max'))
      .where('release_id', '=', releaseId)
      .executeTakeFirst();
    const idx = last?.max === null || last?.max === undefined ? 0 : Number(last.max) + 1;
    await this.db
      .insertInto('release_changes')
      .values({
        release_id: releaseId,
        idx,
        app_id: appId,
        toggle,
        env,
        change: JSON.stringify(change),
        before: null,
      })
      .execute();
  }

  async setBefore(releaseId: string, idx: number, before: unknown): Promise<void> {
    await this.db
      .updateTable('release_changes')
      .set({ before: JSON.stringify(before) })
      .where('release_id', '=', releaseId)
      .where('idx', '=', idx)
      .execute();
  }

  /**
   * Moves the release from one of `from` to `to` with one guarded update
   * (`UPDATE … WHERE id = ? AND status IN (…)`); false when its status is not (or no longer) one of
   * `from`. On PostgreSQL the row stays locked until the transaction ends, so a concurrent
   * transition waits and then finds the new status; SQLite runs one write transaction at a time.
   */
  async transition(
    id: string,
    from: readonly ReleaseStatus[],
    to: ReleaseStatus,
    extra: {
      scheduledAt?: string | null;
      appliedAt?: string;
      revertedAt?: string;
      error?: string | null;
      /** Only when it is scheduled for this time or earlier (the scheduler). */
      dueBy?: string;
    } = {},
  ): Promise<boolean> {
    let q = this.db
      .updateTable('releases')
      .set({
        status: to,
        ...(extra.scheduledAt !== undefined && { scheduled_at: extra.scheduledAt }),
        ...(extra.appliedAt !== undefined && { applied_at: extra.appliedAt }),
        ...(extra.revertedAt !== undefined && { reverted_at: extra.revertedAt }),
        ...(extra.error !== undefined && { error: extra.error }),
      })
      .where('id', '=', id)
      .where('status', 'in', [...from]);
    if (extra.dueBy !== undefined) q = q.where('scheduled_at', '<=', extra.dueBy);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /**
   * Holds the release while its changes are edited, when its status is one of `allowed`: the same
   * guarded update, changing nothing, so an apply cannot start until the edit commits (and an edit
   * waiting behind an apply finds it applied).
   */
  async hold(id: string, allowed: readonly ReleaseStatus[]): Promise<boolean> {
    const res = await this.db
      .updateTable('releases')
      .set((eb) => ({ status: eb.ref('status') }))
      .where('id', '=', id)
      .where('status', 'in', [...allowed])
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Removes one change; false when the release has no change with that number. */
  async removeChange(releaseId: string, idx: number): Promise<boolean> {
    const res = await this.db
      .deleteFrom('release_changes')
      .where('release_id', '=', releaseId)
      .where('idx', '=', idx)
      .executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  }

  /** Scheduled releases whose time has come. */
  async due(now: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('releases')
      .select('name')
      .where('status', '=', 'scheduled')
      .where('scheduled_at', '<=', now)
      .execute();
    return rows.map((r) => r.name);
  }
}
