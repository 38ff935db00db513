import type { CheckRun } from '@gantry/contracts';
import type { Selectable } from 'kysely';
import type { Db } from '../../db/database.js';
import type { CheckRunsTable } from '../../db/schema.js';
import { newId, nowIso } from '../../ids.js';
import type { CheckRunFinish, CheckStore, NewCheckRun } from './check-store.js';

export class SqlCheckStore implements CheckStore {
  constructor(private readonly db: Db) {}

  async start(run: NewCheckRun): Promise<CheckRun> {
    const row: CheckRunsTable = {
      id: newId('chk'),
      deployment_id: run.deploymentId,
      name: run.name,
      kind: run.kind,
      attempt: run.attempt,
      status: 'running',
      output: '',
      error: null,
      started_at: nowIso(),
      finished_at: null,
      ms: null,
    };
    await this.db.insertInto('check_runs').values(row).execute();
    return toCheckRun(row);
  }

  async finish(id: string, f: CheckRunFinish): Promise<CheckRun | undefined> {
    const row = await this.db.selectFrom('check_runs').selectAll().where('id', '=', id).executeTakeFirst();
    if (row?.status !== 'running') return undefined;
    const finishedAt = nowIso();
    const ms = Math.max(0, Date.parse(finishedAt) - Date.parse(row.started_at));
    const r = await this.db
      .updateTable('check_runs')
      .set({ status: f.status, output: f.output, error: f.error, finished_at: finishedAt, ms })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return undefined;
    return toCheckRun({
      ...row,
      status: f.status,
      output: f.output,
      error: f.error,
      finished_at: finishedAt,
      ms,
    });
  }

  async list(deploymentId: string): Promise<CheckRun[]> {
    const rows = await this.db
      .selectFrom('check_runs')
      .selectAll()
      .where('deployment_id', '=', deploymentId)
      .orderBy('id')
      .execute();
    return rows.map(toCheckRun);
  }

  async running(): Promise<CheckRun[]> {
    const rows = await this.db.selectFrom('check_runs').selectAll().where('status', '=', 'running').execute();
    return rows.map(toCheckRun);
  }
}

function toCheckRun(r: Selectable<CheckRunsTable>): CheckRun {
  return {
    id: r.id,
    deploymentId: r.deployment_id,
    name: r.name,
    kind: r.kind as CheckRun['kind'],
    attempt: Number(r.attempt),
    status: r.status as CheckRun['status'],
    output: r.output,
    error: r.error,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    ms: r.ms === null ? null : Number(r.ms),
  };
}
