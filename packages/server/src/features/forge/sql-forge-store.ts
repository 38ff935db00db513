import type { Selectable } from 'kysely';
import type { Db } from '../../db/database.js';
import type { ForgeSettingsTable } from '../../db/schema.js';
import { nowIso } from '../../ids.js';
import type { ForgeProvider, ForgeSettings } from './forge-settings.js';
import type { ForgeStore } from './forge-store.js';

export class SqlForgeStore implements ForgeStore {
  constructor(private readonly db: Db) {}

  async find(appId: string): Promise<ForgeSettings | undefined> {
    const row = await this.db
      .selectFrom('forge_settings')
      .selectAll()
      .where('app_id', '=', appId)
      .executeTakeFirst();
    return row && toSettings(row);
  }

  async findMany(appIds: string[]): Promise<Map<string, ForgeSettings>> {
    if (appIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('forge_settings')
      .selectAll()
      .where('app_id', 'in', appIds)
      .execute();
    return new Map(rows.map((r) => [r.app_id, toSettings(r)]));
  }

  async save(s: ForgeSettings): Promise<void> {
    const values = {
      provider: s.provider,
      api_url: s.apiUrl,
      repo: s.repo,
      token: s.token,
      production_envs: JSON.stringify(s.productionEnvironments),
      after_event_id: s.afterEventId,
      updated_at: s.updatedAt,
      updated_by: s.updatedBy,
    };
    await this.db
      .insertInto('forge_settings')
      .values({ app_id: s.appId, ...values })
      .onConflict((oc) => oc.column('app_id').doUpdateSet(values))
      .execute();
  }

  async remove(appId: string): Promise<boolean> {
    const res = await this.db.deleteFrom('forge_settings').where('app_id', '=', appId).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  }

  async remoteDeployment(deploymentId: string, provider: ForgeProvider): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('forge_deployments')
      .select('remote_id')
      .where('deployment_id', '=', deploymentId)
      .where('provider', '=', provider)
      .executeTakeFirst();
    return row?.remote_id;
  }

  async saveRemoteDeployment(r: {
    deploymentId: string;
    provider: ForgeProvider;
    appId: string;
    remoteId: string;
  }): Promise<void> {
    await this.db
      .insertInto('forge_deployments')
      .values({
        deployment_id: r.deploymentId,
        provider: r.provider,
        app_id: r.appId,
        remote_id: r.remoteId,
        created_at: nowIso(),
      })
      .onConflict((oc) => oc.columns(['deployment_id', 'provider']).doNothing())
      .execute();
  }
}

function toSettings(r: Selectable<ForgeSettingsTable>): ForgeSettings {
  return {
    appId: r.app_id,
    provider: r.provider as ForgeProvider,
    apiUrl: r.api_url,
    repo: r.repo,
    token: r.token,
    productionEnvironments: JSON.parse(r.production_envs) as string[],
    afterEventId: Number(r.after_event_id),
    updatedAt: r.updated_at,
    updatedBy: r.updated_by,
  };
}
