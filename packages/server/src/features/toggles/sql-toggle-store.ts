import type {
  Segment,
  Toggle,
  ToggleConstraint,
  ToggleDependency,
  ToggleEnvironment,
  ToggleStrategy,
  ToggleType,
  ToggleVariant,
} from '@gantry/contracts';
import type { Selectable } from 'kysely';
import type { Db } from '../../db/database.js';
import type { ToggleEnvironmentsTable, TogglesTable } from '../../db/schema.js';
import { newId, nowIso } from '../../ids.js';
import type { EnvironmentPatch, NewToggle, ToggleStore } from './toggle-store.js';

export class SqlToggleStore implements ToggleStore {
  constructor(
    private readonly db: Db,
    /** The engine locks rows (`SELECT … FOR UPDATE`): PostgreSQL. */
    private readonly rowLocks = false,
  ) {}

  async lockInOrder(keys: { appId: string; name: string }[]): Promise<void> {
    if (!this.rowLocks || keys.length < 2) return;
    await this.db
      .selectFrom('toggles')
      .select('id')
      .where((eb) => eb.or(keys.map((k) => eb.and([eb('app_id', '=', k.appId), eb('name', '=', k.name)]))))
      .orderBy('id')
      .forUpdate()
      .execute();
  }

  async insert(t: NewToggle): Promise<Toggle> {
    const id = newId('tgl');
    await this.db
      .insertInto('toggles')
      .values({
        id,
        app_id: t.appId,
        name: t.name,
        type: t.type,
        description: t.description,
        owner: t.owner,
        impression_data: t.impressionData ? 1 : 0,
        dependencies: JSON.stringify(t.dependencies),
        created_by: t.createdBy,
        created_at: nowIso(),
        archived_at: null,
      })
      .execute();
    return (await this.find(t.appId, t.name))!;
  }

  async find(appId: string, name: string): Promise<Toggle | undefined> {
    const row = await this.db
      .selectFrom('toggles')
      .innerJoin('apps', 'apps.id', 'toggles.app_id')
      .selectAll('toggles')
      .select('apps.name as app_name')
      .where('toggles.app_id', '=', appId)
      .where('toggles.name', '=', name)
      .executeTakeFirst();
    if (!row) return undefined;
    const envs = await this.db
      .selectFrom('toggle_environments')
      .selectAll()
      .where('toggle_id', '=', row.id)
      .execute();
    return toToggle(row, envs);
  }

  async list(appId: string, opts: { includeArchived?: boolean } = {}): Promise<Toggle[]> {
    let q = this.db
      .selectFrom('toggles')
      .innerJoin('apps', 'apps.id', 'toggles.app_id')
      .selectAll('toggles')
      .select('apps.name as app_name')
      .where('toggles.app_id', '=', appId)
      .orderBy('toggles.name');
    if (!opts.includeArchived) q = q.where('toggles.archived_at', 'is', null);
    const rows = await q.execute();
    if (rows.length === 0) return [];
    const envs = await this.db
      .selectFrom('toggle_environments')
      .innerJoin('toggles', 'toggles.id', 'toggle_environments.toggle_id')
      .selectAll('toggle_environments')
      .where('toggles.app_id', '=', appId)
      .execute();
    const byToggle = new Map<string, Selectable<ToggleEnvironmentsTable>[]>();
    for (const e of envs) byToggle.set(e.toggle_id, [...(byToggle.get(e.toggle_id) ?? []), e]);
    return rows.map((r) => toToggle(r, byToggle.get(r.id) ?? []));
  }

  async updateMeta(
    id: string,
    p: Partial<Pick<NewToggle, 'type' | 'description' | 'owner' | 'impressionData' | 'dependencies'>>,
  ): Promise<void> {
    const set = {
      ...(p.type !== undefined && { type: p.type }),
      ...(p.description !== undefined && { description: p.description }),
      ...(p.owner !== undefined && { owner: p.owner }),
      ...(p.impressionData !== undefined && { impression_data: p.impressionData ? 1 : 0 }),
      ...(p.dependencies !== undefined && { dependencies: JSON.stringify(p.dependencies) }),
    };
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable('toggles').set(set).where('id', '=', id).execute();
  }

  async patchEnvironment(toggleId: string, env: string, p: EnvironmentPatch): Promise<void> {
    const now = nowIso();
    // Insert-or-nothing, then update: two transactions creating the row at once (a release applied
    // twice, a toggle changed by two people) must not fail on the primary key.
    const created = await this.db
      .insertInto('toggle_environments')
      .values({
        toggle_id: toggleId,
        env,
        enabled: p.enabled ? 1 : 0,
        strategies: JSON.stringify(p.strategies ?? []),
        variants: JSON.stringify(p.variants ?? []),
        updated_at: now,
        enabled_since: p.enabled ? now : null,
      })
      .onConflict((oc) => oc.columns(['toggle_id', 'env']).doNothing())
      .executeTakeFirst();
    if (Number(created.numInsertedOrUpdatedRows ?? 0) > 0) return;
    await this.db
      .updateTable('toggle_environments')
      .set((eb) => ({
        ...(p.enabled !== undefined && { enabled: p.enabled ? 1 : 0 }),
        ...(p.strategies !== undefined && { strategies: JSON.stringify(p.strategies) }),
        ...(p.variants !== undefined && { variants: JSON.stringify(p.variants) }),
        // Decided by the row as the update finds it, not by an earlier read.
        ...(p.enabled === true && {
          enabled_since: eb
            .case()
            .when('toggle_environments.enabled', '=', 0)
            .then(now)
            .else(eb.ref('toggle_environments.enabled_since'))
            .end(),
        }),
        ...(p.enabled === false && { enabled_since: null }),
        updated_at: now,
      }))
      .where('toggle_id', '=', toggleId)
      .where('env', '=', env)
      .execute();
  }

  async archive(id: string): Promise<void> {
    await this.db.updateTable('toggles').set({ archived_at: nowIso() }).where('id', '=', id).execute();
  }

  async bumpRevision(appId: string, env: string): Promise<number> {
    const now = nowIso();
    await this.db
      .insertInto('toggle_revisions')
      .values({ app_id: appId, env, revision: 1, updated_at: now })
      .onConflict((oc) =>
        oc.columns(['app_id', 'env']).doUpdateSet((eb) => ({
          revision: eb('toggle_revisions.revision', '+', 1),
          updated_at: now,
        })),
      )
      .execute();
    return this.revision(appId, env);
  }

  async revision(appId: string, env: string): Promise<number> {
    const row = await this.db
      .selectFrom('toggle_revisions')
      .select('revision')
      .where('app_id', '=', appId)
      .where('env', '=', env)
      .executeTakeFirst();
    return Number(row?.revision ?? 0);
  }

  async revisions(): Promise<{ appId: string; env: string; revision: number }[]> {
    const rows = await this.db.selectFrom('toggle_revisions').selectAll().execute();
    return rows.map((r) => ({ appId: r.app_id, env: r.env, revision: Number(r.revision) }));
  }

  async segments(appId: string): Promise<Segment[]> {
    const rows = await this.db
      .selectFrom('segments')
      .innerJoin('apps', 'apps.id', 'segments.app_id')
      .selectAll('segments')
      .select('apps.name as app_name')
      .where('segments.app_id', '=', appId)
      .orderBy('segments.id')
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      app: r.app_name,
      name: r.name,
      description: r.description,
      constraints: JSON.parse(r.constraints) as ToggleConstraint[],
    }));
  }

  async upsertSegment(
    appId: string,
    name: string,
    description: string,
    constraints: ToggleConstraint[],
  ): Promise<Segment> {
    await this.db
      .insertInto('segments')
      .values({
        app_id: appId,
        name,
        description,
        constraints: JSON.stringify(constraints),
        created_at: nowIso(),
      })
      .onConflict((oc) =>
        oc.columns(['app_id', 'name']).doUpdateSet({ description, constraints: JSON.stringify(constraints) }),
      )
      .execute();
    return (await this.segments(appId)).find((s) => s.name === name)!;
  }
}

function toToggle(
  r: Selectable<TogglesTable> & { app_name: string },
  envs: Selectable<ToggleEnvironmentsTable>[],
): Toggle {
  return {
    id: r.id,
    app: r.app_name,
    name: r.name,
    type: r.type as ToggleType,
    description: r.description,
    owner: r.owner,
    impressionData: Number(r.impression_data) === 1,
    dependencies: JSON.parse(r.dependencies) as ToggleDependency[],
    createdBy: r.created_by,
    createdAt: r.created_at,
    archivedAt: r.archived_at,
    environments: envs
      .map(
        (e): ToggleEnvironment => ({
          env: e.env,
          enabled: Number(e.enabled) === 1,
          strategies: JSON.parse(e.strategies) as ToggleStrategy[],
          variants: JSON.parse(e.variants) as ToggleVariant[],
          updatedAt: e.updated_at,
          enabledSince: e.enabled_since,
        }),
      )
      .sort((a, b) => a.env.localeCompare(b.env)),
  };
}
