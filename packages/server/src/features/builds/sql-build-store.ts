import type { Build, BuildStatus, BuildStep, StepStatus } from '@gantry/contracts';
import type { Selectable } from 'kysely';
import type { Db } from '../../db/database.js';
import type { DialectCapabilities } from '../../db/dialects/dialect-capabilities.js';
import type { BuildStepsTable, BuildsTable } from '../../db/schema.js';
import { newId, nowIso } from '../../ids.js';
import type {
  BuildFinish,
  BuildQuery,
  BuildStore,
  NewBuild,
  RunningBuild,
  StepPatch,
} from './build-store.js';

type BuildRow = Selectable<BuildsTable> & { app_name: string };

export class SqlBuildStore implements BuildStore {
  constructor(
    private readonly db: Db,
    private readonly caps: DialectCapabilities,
  ) {}

  private select() {
    return this.db
      .selectFrom('builds')
      .innerJoin('apps', 'apps.id', 'builds.app_id')
      .selectAll('builds')
      .select('apps.name as app_name');
  }

  async enqueue(b: NewBuild): Promise<Build> {
    const id = newId('bld');
    await this.db
      .insertInto('builds')
      .values({
        id,
        app_id: b.appId,
        sha: b.sha,
        status: 'queued',
        reason: b.reason,
        requested_by: b.requestedBy,
        queued_at: nowIso(),
        started_at: null,
        finished_at: null,
        heartbeat_at: null,
        runner_id: null,
        attempt: b.attempt ?? 1,
        cancel_requested: 0,
        slo_ms: b.sloMs,
        slo_breached: 0,
        exit_code: null,
        error: null,
        artifact_id: null,
        runs_on: b.runsOn?.length ? JSON.stringify(b.runsOn) : null,
      })
      .execute();
    return (await this.find(id))!;
  }

  async findLive(appId: string, sha: string): Promise<Build[]> {
    const rows = await this.select()
      .where('builds.app_id', '=', appId)
      .where('builds.sha', '=', sha)
      .where('builds.status', 'in', ['queued', 'running', 'succeeded'])
      .execute();
    return rows.map(toBuild);
  }

  async supersedeQueued(appId: string, keepSha: string): Promise<string[]> {
    const rows = await this.db
      .updateTable('builds')
      .set({ status: 'superseded', finished_at: nowIso() })
      .where('app_id', '=', appId)
      .where('status', '=', 'queued')
      .where('sha', '!=', keepSha)
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  async claimNext(runnerId: string): Promise<Build | undefined> {
    for (let tries = 0; tries < 5; tries++) {
      let next = this.db
        .selectFrom('builds')
        .select('id')
        .where('status', '=', 'queued')
        .where('runs_on', 'is', null)
        .orderBy('queued_at')
        .orderBy('id')
        .limit(1);
      if (this.caps.supportsSkipLocked) next = next.forUpdate().skipLocked();
      const candidate = await next.executeTakeFirst();
      if (!candidate) return undefined;
      const now = nowIso();
      const res = await this.db
        .updateTable('builds')
        .set({ status: 'running', runner_id: runnerId, started_at: now, heartbeat_at: now })
        .where('id', '=', candidate.id)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 1) return this.find(candidate.id);
    }
    return undefined;
  }

  async heartbeat(ids: string[], runnerId: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('builds')
      .set({ heartbeat_at: nowIso() })
      .where('id', 'in', ids)
      .where('runner_id', '=', runnerId)
      .where('status', '=', 'running')
      .execute();
  }

  async isCancelRequested(id: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('builds')
      .select('cancel_requested')
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(row?.cancel_requested ?? 0) === 1;
  }

  async requestCancel(id: string): Promise<'cancelled' | 'flagged' | 'finished'> {
    const queued = await this.db
      .updateTable('builds')
      .set({ status: 'cancelled', cancel_requested: 1, finished_at: nowIso() })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    if (Number(queued.numUpdatedRows) === 1) return 'cancelled';
    const running = await this.db
      .updateTable('builds')
      .set({ cancel_requested: 1 })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(running.numUpdatedRows) === 1 ? 'flagged' : 'finished';
  }

  async finish(id: string, f: BuildFinish): Promise<boolean> {
    const res = await this.db
      .updateTable('builds')
      .set({
        status: f.status,
        finished_at: nowIso(),
        exit_code: f.exitCode ?? null,
        error: f.error ?? null,
        artifact_id: f.artifactId ?? null,
      })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async markSloBreached(id: string): Promise<void> {
    await this.db.updateTable('builds').set({ slo_breached: 1 }).where('id', '=', id).execute();
  }

  async insertSteps(buildId: string, steps: { name: string; run: string }[]): Promise<void> {
    await this.db.deleteFrom('build_steps').where('build_id', '=', buildId).execute();
    if (steps.length === 0) return;
    await this.db
      .insertInto('build_steps')
      .values(
        steps.map((s, idx) => ({
          build_id: buildId,
          idx,
          name: s.name,
          run: s.run,
          status: 'pending',
          started_at: null,
          finished_at: null,
          exit_code: null,
          log_tail: null,
          pid: null,
        })),
      )
      .execute();
  }

  async updateStep(buildId: string, idx: number, p: StepPatch): Promise<void> {
    await this.db
      .updateTable('build_steps')
      .set({
        ...(p.status !== undefined && { status: p.status }),
        ...(p.startedAt !== undefined && { started_at: p.startedAt }),
        ...(p.finishedAt !== undefined && { finished_at: p.finishedAt }),
        ...(p.exitCode !== undefined && { exit_code: p.exitCode }),
        ...(p.logTail !== undefined && { log_tail: p.logTail }),
        ...(p.pid !== undefined && { pid: p.pid }),
      })
      .where('build_id', '=', buildId)
      .where('idx', '=', idx)
      .execute();
  }

  async list(q: BuildQuery): Promise<Build[]> {
    let query = this.select()
      .orderBy('builds.id', 'desc')
      .limit(Math.min(q.limit ?? 50, 500));
    if (q.appId) query = query.where('builds.app_id', '=', q.appId);
    if (q.status) query = query.where('builds.status', '=', q.status);
    if (q.sha) query = query.where('builds.sha', 'like', `${q.sha}%`);
    if (q.before) query = query.where('builds.id', '<', q.before);
    return (await query.execute()).map(toBuild);
  }

  async find(id: string): Promise<Build | undefined> {
    const row = await this.select().where('builds.id', '=', id).executeTakeFirst();
    return row && toBuild(row);
  }

  async steps(buildId: string): Promise<BuildStep[]> {
    const rows = await this.db
      .selectFrom('build_steps')
      .selectAll()
      .where('build_id', '=', buildId)
      .orderBy('idx')
      .execute();
    return rows.map(toStep);
  }

  async runningStepPids(buildId: string): Promise<number[]> {
    const rows = await this.db
      .selectFrom('build_steps')
      .select('pid')
      .where('build_id', '=', buildId)
      .where('status', '=', 'running')
      .where('pid', 'is not', null)
      .execute();
    return rows.map((r) => Number(r.pid));
  }

  async interruptRunningSteps(buildId: string): Promise<void> {
    await this.db
      .updateTable('build_steps')
      .set({ status: 'cancelled', finished_at: nowIso(), pid: null })
      .where('build_id', '=', buildId)
      .where('status', '=', 'running')
      .execute();
  }

  async running(): Promise<RunningBuild[]> {
    const rows = await this.db
      .selectFrom('builds')
      .select(['id', 'runner_id', 'heartbeat_at'])
      .where('status', '=', 'running')
      .execute();
    return rows.map((r) => ({ id: r.id, runnerId: r.runner_id, heartbeatAt: r.heartbeat_at }));
  }
}

function toBuild(r: BuildRow): Build {
  return {
    id: r.id,
    appId: r.app_id,
    app: r.app_name,
    sha: r.sha,
    status: r.status as BuildStatus,
    reason: r.reason,
    requestedBy: r.requested_by,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    attempt: Number(r.attempt),
    sloMs: Number(r.slo_ms),
    sloBreached: Number(r.slo_breached) === 1,
    exitCode: r.exit_code === null ? null : Number(r.exit_code),
    error: r.error,
    artifactId: r.artifact_id,
    ...(r.runs_on && { runsOn: JSON.parse(r.runs_on) as string[] }),
  };
}

function toStep(r: Selectable<BuildStepsTable>): BuildStep {
  return {
    idx: Number(r.idx),
    name: r.name,
    run: r.run,
    status: r.status as StepStatus,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    exitCode: r.exit_code === null ? null : Number(r.exit_code),
    durationMs: r.started_at && r.finished_at ? Date.parse(r.finished_at) - Date.parse(r.started_at) : null,
  };
}
