import type { AppRegistry } from '@gantry/contracts';
import type { Selectable } from 'kysely';
import type { Db } from '../../db/database.js';
import type { AppsTable } from '../../db/schema.js';
import { nowIso } from '../../ids.js';
import { parseStoredRegistry } from './app-registry.js';
import type { AppRecord, AppStore, NewApp } from './app-store.js';

export class SqlAppStore implements AppStore {
  constructor(private readonly db: Db) {}

  async insert(app: NewApp): Promise<AppRecord> {
    const row: AppsTable = {
      id: app.id,
      name: app.name,
      repo_url: app.repoUrl,
      branch: app.branch,
      webhook_secret: app.webhookSecret,
      poll_interval_ms: app.pollIntervalMs,
      head_sha: null,
      created_at: nowIso(),
      removed_at: null,
      registry: null,
    };
    await this.db.insertInto('apps').values(row).execute();
    return toApp(row);
  }

  async list(): Promise<AppRecord[]> {
    return (
      await this.db.selectFrom('apps').selectAll().where('removed_at', 'is', null).orderBy('name').execute()
    ).map(toApp);
  }

  async findByName(name: string): Promise<AppRecord | undefined> {
    const row = await this.db
      .selectFrom('apps')
      .selectAll()
      .where('name', '=', name)
      .where('removed_at', 'is', null)
      .executeTakeFirst();
    return row && toApp(row);
  }

  async findById(id: string): Promise<AppRecord | undefined> {
    const row = await this.db.selectFrom('apps').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toApp(row);
  }

  async markRemoved(app: { id: string; name: string }): Promise<boolean> {
    // A tombstone no valid app name can equal (names are [a-z0-9-]), so the name can be added again.
    const res = await this.db
      .updateTable('apps')
      .set({ name: `${app.name}~${app.id}`, removed_at: nowIso() })
      .where('id', '=', app.id)
      .where('removed_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async setRegistry(id: string, registry: AppRegistry | null): Promise<void> {
    await this.db
      .updateTable('apps')
      .set({ registry: registry && JSON.stringify(registry) })
      .where('id', '=', id)
      .execute();
  }

  async moveHead(id: string, expected: string | null, next: string): Promise<boolean> {
    const res = await this.db
      .updateTable('apps')
      .set({ head_sha: next })
      .where('id', '=', id)
      .where((eb) => (expected === null ? eb('head_sha', 'is', null) : eb('head_sha', '=', expected)))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }
}

function toApp(r: Selectable<AppsTable>): AppRecord {
  return {
    id: r.id,
    name: r.name,
    repoUrl: r.repo_url,
    branch: r.branch,
    pollIntervalMs: Number(r.poll_interval_ms),
    headSha: r.head_sha,
    createdAt: r.created_at,
    webhookSecret: r.webhook_secret,
    removedAt: r.removed_at ?? null,
    registry: parseStoredRegistry(r.registry ?? null),
  };
}
