import type { Release, ReleaseChange, ReleaseChangeSpec, ReleaseStatus } from '@gantry/contracts';
import type { Db } from '../../db/database.js';
import { newId, nowIso } from '../../ids.js';

/** Releases and their changes. Takes a `Db` so it can run inside a toggle transaction. */
export class SqlReleaseStore {
  constructor(private readonly db: Db) {}

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

  async findByName(name: string): Promise<Release | undefined> {
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
    return {
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

  async setStatus(
    id: string,
    status: ReleaseStatus,
    extra: {
      scheduledAt?: string | null;
      appliedAt?: string;
      revertedAt?: string;
      error?: string | null;
    } = {},
  ): Promise<void> {
    await this.db
      .updateTable('releases')
      .set({
        status,
        ...(extra.scheduledAt !== undefined && { scheduled_at: extra.scheduledAt }),
        ...(extra.appliedAt !== undefined && { applied_at: extra.appliedAt }),
        ...(extra.revertedAt !== undefined && { reverted_at: extra.revertedAt }),
        ...(extra.error !== undefined && { error: extra.error }),
      })
      .where('id', '=', id)
      .execute();
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
