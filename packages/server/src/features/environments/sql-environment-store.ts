import type { Selectable } from 'kysely';
import type { Db } from '../../db/database.js';
import type { EnvironmentsTable } from '../../db/schema.js';
import { newId, nowIso } from '../../ids.js';
import type { EnvironmentRecord, EnvironmentStore, SeenTagStore, SlotLease } from './environment-store.js';

export class SqlEnvironmentStore implements EnvironmentStore, SeenTagStore {
  constructor(private readonly db: Db) {}

  async ensure(appId: string, name: string, port: () => Promise<number>): Promise<EnvironmentRecord> {
    const existing = await this.find(appId, name);
    if (existing) return existing;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.db
          .insertInto('environments')
          .values({
            id: newId('env'),
            app_id: appId,
            name,
            port: await port(),
            active_deployment_id: null,
            locked_by: null,
            lock_reason: null,
            locked_at: null,
            hold_sha: null,
            hold_reason: null,
            held_at: null,
            created_at: nowIso(),
            lease_owner: null,
            lease_expires_at: null,
          })
          .execute();
        break;
      } catch (e) {
        // Another writer created it, or took the port: look again, pick again.
        if (await this.find(appId, name)) break;
        if (attempt === 4) throw e;
      }
    }
    return (await this.find(appId, name))!;
  }

  async find(appId: string, name: string): Promise<EnvironmentRecord | undefined> {
    const row = await this.db
      .selectFrom('environments')
      .selectAll()
      .where('app_id', '=', appId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toEnv(row);
  }

  async list(appId?: string): Promise<EnvironmentRecord[]> {
    let q = this.db.selectFrom('environments').selectAll().orderBy('created_at');
    if (appId) q = q.where('app_id', '=', appId);
    return (await q.execute()).map(toEnv);
  }

  async usedPorts(): Promise<number[]> {
    return (await this.db.selectFrom('environments').select('port').execute()).map((r) => Number(r.port));
  }

  async claimSlot(id: string, deploymentId: string, lease: SlotLease): Promise<number | null> {
    const res = await this.db
      .updateTable('environments')
      .set((eb) => ({
        active_deployment_id: deploymentId,
        lease_owner: lease.owner,
        lease_expires_at: inMs(lease.ttlMs),
        fence: eb('fence', '+', 1),
      }))
      .where('id', '=', id)
      .where('active_deployment_id', 'is', null)
      .where('locked_by', 'is', null)
      .returning('fence')
      .executeTakeFirst();
    return res ? Number(res.fence) : null;
  }

  async renewSlot(id: string, deploymentId: string, lease: SlotLease): Promise<boolean> {
    const res = await this.db
      .updateTable('environments')
      .set({ lease_expires_at: inMs(lease.ttlMs) })
      .where('id', '=', id)
      .where('active_deployment_id', '=', deploymentId)
      .where('lease_owner', '=', lease.owner)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async releaseSlot(id: string, deploymentId: string, owner?: string): Promise<void> {
    let q = this.db
      .updateTable('environments')
      .set({ active_deployment_id: null, lease_owner: null, lease_expires_at: null })
      .where('id', '=', id)
      .where('active_deployment_id', '=', deploymentId);
    if (owner) q = q.where('lease_owner', '=', owner);
    await q.execute();
  }

  async takeOverSlot(
    id: string,
    deploymentId: string,
    lease: SlotLease,
    opts: { now: string; deadOwner?: string },
  ): Promise<number | null> {
    const res = await this.db
      .updateTable('environments')
      .set((eb) => ({
        lease_owner: lease.owner,
        lease_expires_at: inMs(lease.ttlMs),
        fence: eb('fence', '+', 1),
      }))
      .where('id', '=', id)
      .where('active_deployment_id', '=', deploymentId)
      .where((eb) =>
        eb.or([
          eb('lease_expires_at', 'is', null),
          eb('lease_expires_at', '<', opts.now),
          ...(opts.deadOwner ? [eb('lease_owner', '=', opts.deadOwner)] : []),
        ]),
      )
      .returning('fence')
      .executeTakeFirst();
    return res ? Number(res.fence) : null;
  }

  async heldSlots(): Promise<EnvironmentRecord[]> {
    const rows = await this.db
      .selectFrom('environments')
      .selectAll()
      .where('active_deployment_id', 'is not', null)
      .execute();
    return rows.map(toEnv);
  }

  async releaseStaleSlots(): Promise<number> {
    const res = await this.db
      .updateTable('environments')
      .set({ active_deployment_id: null, lease_owner: null, lease_expires_at: null })
      .where('active_deployment_id', 'is not', null)
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', nowIso())]))
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('deployments')
              .select('deployments.id')
              .whereRef('deployments.id', '=', 'environments.active_deployment_id')
              .where('deployments.status', '=', 'running'),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  async setLock(id: string, lock: { by: string; reason: string | null } | null): Promise<void> {
    await this.db
      .updateTable('environments')
      .set({
        locked_by: lock?.by ?? null,
        lock_reason: lock?.reason ?? null,
        locked_at: lock ? nowIso() : null,
      })
      .where('id', '=', id)
      .execute();
  }

  async setHold(id: string, hold: { sha: string; reason: string | null } | null): Promise<void> {
    await this.db
      .updateTable('environments')
      .set({
        hold_sha: hold?.sha ?? null,
        hold_reason: hold?.reason ?? null,
        held_at: hold ? nowIso() : null,
      })
      .where('id', '=', id)
      .execute();
  }

  async markSeen(appId: string, name: string, sha: string): Promise<boolean> {
    const res = await this.db
      .insertInto('seen_tags')
      .values({ app_id: appId, name, sha, seen_at: nowIso() })
      .onConflict((oc) => oc.columns(['app_id', 'name']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async seen(appId: string): Promise<Set<string>> {
    const rows = await this.db.selectFrom('seen_tags').select('name').where('app_id', '=', appId).execute();
    return new Set(rows.map((r) => r.name));
  }
}

function toEnv(r: Selectable<EnvironmentsTable>): EnvironmentRecord {
  return {
    id: r.id,
    appId: r.app_id,
    name: r.name,
    port: Number(r.port),
    activeDeploymentId: r.active_deployment_id,
    lease:
      r.active_deployment_id && r.lease_owner
        ? { owner: r.lease_owner, expiresAt: r.lease_expires_at ?? '' }
        : null,
    fence: Number(r.fence),
    lock: r.locked_by ? { by: r.locked_by, reason: r.lock_reason, since: r.locked_at ?? '' } : null,
    hold: r.hold_sha ? { sha: r.hold_sha, reason: r.hold_reason, since: r.held_at ?? '' } : null,
  };
}

function inMs(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}
