import type { Incident } from '@gantry/contracts';
import type { Selectable } from 'kysely';
import type { Db } from '../../db/database.js';
import type { IncidentsTable } from '../../db/schema.js';
import { newId, nowIso } from '../../ids.js';
import type { IncidentQuery, IncidentStore, MetricsIncident, NewIncident } from './incident-store.js';

type Row = Selectable<IncidentsTable> & { app_name: string };

export class SqlIncidentStore implements IncidentStore {
  constructor(private readonly db: Db) {}

  private select() {
    return this.db
      .selectFrom('incidents')
      .innerJoin('apps', 'apps.id', 'incidents.app_id')
      .selectAll('incidents')
      .select('apps.name as app_name');
  }

  async insert(i: NewIncident): Promise<Incident> {
    const id = newId('inc');
    await this.db
      .insertInto('incidents')
      .values({
        id,
        app_id: i.appId,
        env: i.env,
        deployment_id: i.deploymentId,
        title: i.title,
        opened_at: i.openedAt ?? nowIso(),
        opened_by: i.openedBy,
        resolved_at: null,
        resolved_by: null,
      })
      .execute();
    return (await this.find(id))!;
  }

  async find(id: string): Promise<Incident | undefined> {
    const row = await this.select().where('incidents.id', '=', id).executeTakeFirst();
    return row && toIncident(row);
  }

  async list(q: IncidentQuery): Promise<Incident[]> {
    let query = this.select()
      .orderBy('incidents.opened_at', 'desc')
      .orderBy('incidents.id', 'desc')
      .limit(Math.min(q.limit ?? 100, 1000));
    if (q.appId) query = query.where('incidents.app_id', '=', q.appId);
    if (q.env) query = query.where('incidents.env', '=', q.env);
    if (q.open !== undefined) query = query.where('incidents.resolved_at', q.open ? 'is' : 'is not', null);
    return (await query.execute()).map(toIncident);
  }

  async resolve(id: string, by: string, at: string): Promise<boolean> {
    const res = await this.db
      .updateTable('incidents')
      .set({ resolved_at: at, resolved_by: by })
      .where('id', '=', id)
      .where('resolved_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async listForMetrics(filter: { app?: string; env?: string }): Promise<MetricsIncident[]> {
    let query = this.db
      .selectFrom('incidents')
      .innerJoin('apps', 'apps.id', 'incidents.app_id')
      .select([
        'incidents.id',
        'apps.name as app',
        'incidents.env',
        'incidents.deployment_id',
        'incidents.opened_at',
        'incidents.resolved_at',
      ])
      .orderBy('incidents.opened_at')
      .orderBy('incidents.id');
    if (filter.app) query = query.where('apps.name', '=', filter.app);
    if (filter.env) query = query.where('incidents.env', '=', filter.env);
    return (await query.execute()).map((r) => ({
      id: r.id,
      app: r.app,
      env: r.env,
      ...(r.deployment_id !== null && { deploymentId: r.deployment_id }),
      openedAt: r.opened_at,
      resolvedAt: r.resolved_at,
    }));
  }
}

function toIncident(r: Row): Incident {
  return {
    id: r.id,
    app: r.app_name,
    env: r.env,
    deploymentId: r.deployment_id,
    title: r.title,
    openedAt: r.opened_at,
    openedBy: r.opened_by,
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by,
  };
}
