import type { ReleaseStatus } from '@gantry/contracts';
import type { Db } from '../../db/database.js';
import type {
  BuildEvent,
  CommitEvent,
  DeploymentEvent,
  DeploymentFacts,
  FactDeployment,
  GraphSource,
  LedgerState,
  MetricsInput,
  RollbackAttempt,
  ScopedBuild,
  Shipment,
} from './engine/index.js';

const CHUNK = 500;
const chunks = <T>(xs: readonly T[], n = CHUNK): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};
const ms = (iso: string) => Date.parse(iso);

/** Lead times as float64 little-endian bytes (metric_deployments.lead_ms). */
function encodeLeads(values: number[]): Buffer {
  const buf = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => {
    buf.writeDoubleLE(v, i * 8);
  });
  return buf;
}

/** What a `toggle.changed` event carries (features/toggles). */
interface ToggleChangeData {
  env?: string;
  before?: { enabled?: boolean };
  after?: { enabled?: boolean };
  /** Set when a release made the change, applying it or reverting it. */
  release?: string;
}

/**
 * A toggle switched on outside a release: one of the two things counted as a release (the other is a
 * release applied; docs/metrics.md, "Release frequency"). A release's own changes and its revert's are not.
 */
function switchedOnAlone(data: ToggleChangeData): boolean {
  return !data.release && !data.before?.enabled && Boolean(data.after?.enabled);
}

/** Releases count once they are applied; a reverted one was applied. Drafts, scheduled, failed and cancelled ones never. */
const APPLIED: ReleaseStatus[] = ['applied', 'reverted'];

/** A successful deployment as the ledger needs it. */
export interface LedgerDeployment {
  id: string;
  sha: string;
  trigger: string;
  requestedAt: number;
  finishedAt: number;
  remediates: string | null;
}

/** The commits table of one app, read as the metrics engine's commit graph. */
export class SqlGraphSource implements GraphSource {
  constructor(
    private readonly db: Db,
    private readonly appId: string,
  ) {}

  async commits(shas: readonly string[]): Promise<CommitEvent[]> {
    const out: CommitEvent[] = [];
    for (const part of chunks(shas)) {
      if (!part.length) continue;
      const rows = await this.db
        .selectFrom('commits')
        .select(['sha', 'parents', 'committed_at', 'message'])
        .where('app_id', '=', this.appId)
        .where('sha', 'in', part)
        .execute();
      for (const r of rows)
        out.push({
          sha: r.sha,
          parents: JSON.parse(r.parents),
          committedAt: r.committed_at,
          message: r.message,
        });
    }
    return out;
  }
}

/** The ledger of one app's environment, kept in metric_deployments and metric_commits. */
export class SqlLedgerState implements LedgerState {
  constructor(
    private readonly db: Db,
    private readonly appId: string,
    private readonly env: string,
  ) {}

  async last() {
    const r = await this.db
      .selectFrom('metric_deployments')
      .select(['sha', 'seq'])
      .where('app_id', '=', this.appId)
      .where('env', '=', this.env)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? { sha: r.sha, seq: Number(r.seq) } : null;
  }

  async ranBefore(sha: string) {
    const r = await this.db
      .selectFrom('metric_deployments')
      .select('seq')
      .where('app_id', '=', this.appId)
      .where('env', '=', this.env)
      .where('sha', '=', sha)
      .limit(1)
      .executeTakeFirst();
    return r !== undefined;
  }

  async shipped(shas: readonly string[]) {
    const out = new Map<string, Shipment>();
    for (const part of chunks(shas)) {
      if (!part.length) continue;
      const rows = await this.select().where('sha', 'in', part).execute();
      for (const r of rows) out.set(r.sha, { seq: Number(r.seq), deploymentId: r.deployment_id });
    }
    return out;
  }

  async shippedByPrefix(prefix: string) {
    // Hex SHAs: every SHA starting with the prefix sorts in [prefix, prefix + 'g').
    const rows = await this.select().where('sha', '>=', prefix).where('sha', '<', `${prefix}g`).execute();
    return new Map(rows.map((r) => [r.sha, { seq: Number(r.seq), deploymentId: r.deployment_id }]));
  }

  private select() {
    return this.db
      .selectFrom('metric_commits')
      .select(['sha', 'seq', 'deployment_id'])
      .where('app_id', '=', this.appId)
      .where('env', '=', this.env);
  }
}

/** Reads and writes what the metrics need: ledger facts, and the rest of the history of a scope. */
export class SqlMetricsStore {
  constructor(private readonly db: Db) {}

  /** Every commit of an app, as the engine's graph needs them (a bulk recording of a whole history). */
  async commitsOf(appId: string): Promise<CommitEvent[]> {
    const rows = await this.db
      .selectFrom('commits')
      .select(['sha', 'parents', 'committed_at', 'message'])
      .where('app_id', '=', appId)
      .execute();
    return rows.map((r) => ({
      sha: r.sha,
      parents: JSON.parse(r.parents),
      committedAt: r.committed_at,
      message: r.message,
    }));
  }

  /** Whether some successful deployment of the environment is not in the ledger yet (two index counts). */
  async behind(appId: string, env: string): Promise<boolean> {
    const [done, recorded] = await Promise.all([
      this.db
        .selectFrom('deployments')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('app_id', '=', appId)
        .where('env', '=', env)
        .where('status', '=', 'succeeded')
        .executeTakeFirstOrThrow(),
      this.db
        .selectFrom('metric_deployments')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('app_id', '=', appId)
        .where('env', '=', env)
        .executeTakeFirstOrThrow(),
    ]);
    return Number(done.n) !== Number(recorded.n);
  }

  /** Successful deployments of the environment that the ledger has not recorded yet, in finish order. */
  async unrecorded(appId: string, env: string): Promise<LedgerDeployment[]> {
    const rows = await this.db
      .selectFrom('deployments')
      .leftJoin('metric_deployments', 'metric_deployments.deployment_id', 'deployments.id')
      .select([
        'deployments.id',
        'deployments.sha',
        'deployments.trigger',
        'deployments.requested_at',
        'deployments.finished_at',
        'deployments.remediates',
      ])
      .where('deployments.app_id', '=', appId)
      .where('deployments.env', '=', env)
      .where('deployments.status', '=', 'succeeded')
      .where('deployments.finished_at', 'is not', null)
      .where('metric_deployments.deployment_id', 'is', null)
      .orderBy('deployments.finished_at')
      .orderBy('deployments.requested_at')
      .orderBy('deployments.id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      sha: r.sha,
      trigger: r.trigger,
      requestedAt: ms(r.requested_at),
      finishedAt: ms(r.finished_at!),
      remediates: r.remediates,
    }));
  }

  async lastFinishedAt(appId: string, env: string): Promise<number | null> {
    const r = await this.db
      .selectFrom('metric_deployments')
      .select('finished_at_ms')
      .where('app_id', '=', appId)
      .where('env', '=', env)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? Number(r.finished_at_ms) : null;
  }

  async forget(appId: string, env: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('metric_commits').where('app_id', '=', appId).where('env', '=', env).execute();
      await trx.deleteFrom('metric_deployments').where('app_id', '=', appId).where('env', '=', env).execute();
    });
  }

  /** Environments the app has deployment history in (also imported history). */
  async deployedEnvs(appId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('deployments')
      .select('env')
      .distinct()
      .where('app_id', '=', appId)
      .execute();
    return rows.map((r) => r.env);
  }

  /** Every (app, env) with successful deployments: what a catch-up walks. */
  async scopes(): Promise<{ appId: string; env: string }[]> {
    const rows = await this.db
      .selectFrom('deployments')
      .select(['app_id', 'env'])
      .where('status', '=', 'succeeded')
      .groupBy(['app_id', 'env'])
      .execute();
    return rows.map((r) => ({ appId: r.app_id, env: r.env }));
  }

  /** Appends facts in one transaction each batch; the ledger is append-only per environment. */
  async record(
    appId: string,
    env: string,
    items: { d: LedgerDeployment; f: DeploymentFacts }[],
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const part of chunks(items, 200)) {
        await trx
          .insertInto('metric_deployments')
          .values(
            part.map(({ d, f }) => ({
              deployment_id: d.id,
              app_id: appId,
              env,
              seq: f.seq,
              sha: d.sha,
              trigger: d.trigger,
              requested_at_ms: d.requestedAt,
              finished_at_ms: d.finishedAt,
              remediates: d.remediates,
              previous_sha: f.previousSha,
              ran_before: f.ranBefore ? 1 : 0,
              forward: f.forward === null ? null : f.forward ? 1 : 0,
              revert_targets: JSON.stringify(f.revertTargets),
              new_commits: f.newCommits.length,
              known_sha: f.knownSha ? 1 : 0,
              lead_ms: encodeLeads(f.newCommits.map((c) => d.finishedAt - ms(c.committedAt))),
            })),
          )
          .execute();
      }
      const commits = items.flatMap(({ d, f }) =>
        f.newCommits.map((c) => ({
          app_id: appId,
          env,
          sha: c.sha,
          deployment_id: d.id,
          seq: f.seq,
        })),
      );
      for (const part of chunks(commits)) await trx.insertInto('metric_commits').values(part).execute();
    });
  }

  /**
   * The environment's successful deployments with their ledger facts, in finish order, and the lead
   * times of the commits they shipped in [samplesFrom, samplesTo) as two parallel arrays.
   */
  async factDeployments(
    appId: string,
    env: string,
    samplesFrom = 0,
    samplesTo = 0,
  ): Promise<{ deployments: FactDeployment[]; samples: { at: Float64Array; lead: Float64Array } }> {
    const rows = await this.db
      .selectFrom('metric_deployments')
      .select([
        'deployment_id',
        'sha',
        'trigger',
        'requested_at_ms',
        'finished_at_ms',
        'remediates',
        'ran_before',
        'forward',
        'revert_targets',
        'known_sha',
        'lead_ms',
      ])
      .where('app_id', '=', appId)
      .where('env', '=', env)
      .orderBy('seq')
      .execute();
    const deployments = new Array<FactDeployment>(rows.length);
    const blobs: Uint8Array[] = [];
    const times: number[] = [];
    let n = 0;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const finishedAt = Number(r.finished_at_ms);
      deployments[i] = {
        id: r.deployment_id,
        sha: r.sha,
        trigger: r.trigger as FactDeployment['trigger'],
        requestedAt: Number(r.requested_at_ms),
        finishedAt,
        remediates: r.remediates ?? undefined,
        ranBefore: r.ran_before === 1,
        forward: r.forward === null ? null : r.forward === 1,
        revertTargets: r.revert_targets === '[]' ? [] : JSON.parse(r.revert_targets),
        knownSha: r.known_sha === 1,
        newCommits: r.lead_ms.byteLength / 8,
      };
      if (finishedAt >= samplesFrom && finishedAt < samplesTo && r.lead_ms.byteLength) {
        blobs.push(r.lead_ms);
        times.push(finishedAt);
        n += r.lead_ms.byteLength / 8;
      }
    }
    const at = new Float64Array(n);
    const lead = new Float64Array(n);
    let k = 0;
    for (let i = 0; i < blobs.length; i++) {
      const b = blobs[i]!;
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let j = 0; j < b.byteLength; j += 8) {
        at[k] = times[i]!;
        lead[k++] = view.getFloat64(j, true);
      }
    }
    return { deployments, samples: { at, lead } };
  }

  async rollbackAttempts(appId: string, env: string): Promise<RollbackAttempt[]> {
    const rows = await this.db
      .selectFrom('deployments')
      .select(['id', 'status', 'requested_at', 'finished_at'])
      .where('app_id', '=', appId)
      .where('env', '=', env)
      .where('trigger', 'in', ['rollback', 'auto-rollback'])
      .where('finished_at', 'is not', null)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      succeeded: r.status === 'succeeded',
      requestedAt: ms(r.requested_at),
      finishedAt: ms(r.finished_at!),
    }));
  }

  /** Builds counted for build time (not cancelled or superseded), finished in [from, to). */
  async builds(appId: string, from: string, to: string): Promise<ScopedBuild[]> {
    const rows = await this.db
      .selectFrom('builds')
      .select(['id', 'queued_at', 'started_at', 'finished_at', 'slo_ms'])
      .where('app_id', '=', appId)
      .where('status', 'in', ['succeeded', 'failed', 'interrupted'])
      .where('started_at', 'is not', null)
      .where('finished_at', '>=', from)
      .where('finished_at', '<', to)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      queuedAt: ms(r.queued_at),
      startedAt: ms(r.started_at!),
      finishedAt: ms(r.finished_at!),
      sloMs: Number(r.slo_ms),
    }));
  }

  /** Releases touching this app's environment, when they were applied. */
  async releasesApplied(appId: string, env: string): Promise<{ key: string; at: number }[]> {
    const rows = await this.db
      .selectFrom('releases')
      .innerJoin('release_changes', 'release_changes.release_id', 'releases.id')
      .select(['releases.id', 'releases.applied_at'])
      .distinct()
      .where('release_changes.app_id', '=', appId)
      .where('release_changes.env', '=', env)
      .where('releases.status', 'in', APPLIED)
      .where('releases.applied_at', 'is not', null)
      .execute();
    return rows.map((r) => ({ key: r.id, at: ms(r.applied_at!) }));
  }

  /** Releases applied, per app and environment, over all time (Prometheus `gantry_releases_total`). */
  async releasesAppliedCounts(): Promise<{ appId: string; env: string; count: number }[]> {
    const rows = await this.db
      .selectFrom('releases')
      .innerJoin('release_changes', 'release_changes.release_id', 'releases.id')
      .select((eb) => [
        'release_changes.app_id',
        'release_changes.env',
        eb.fn.count<number | string>('releases.id').distinct().as('n'),
      ])
      .where('releases.status', 'in', APPLIED)
      .where('releases.applied_at', 'is not', null)
      .groupBy(['release_changes.app_id', 'release_changes.env'])
      .execute();
    return rows.map((r) => ({ appId: r.app_id, env: r.env, count: Number(r.n) }));
  }

  /**
   * `toggle.changed` events after the event `afterId`, oldest first, each reduced to whether it
   * switched a toggle on outside a release (what `gantry_releases_total{kind="toggle"}` counts).
   */
  async toggleSwitchesAfter(
    afterId: number,
  ): Promise<{ id: number; appId: string; env: string | null; at: number; on: boolean }[]> {
    const rows = await this.db
      .selectFrom('events')
      .select(['id', 'app_id', 'data', 'created_at'])
      .where('type', '=', 'toggle.changed')
      .where('app_id', 'is not', null)
      .where('id', '>', afterId)
      .orderBy('id')
      .execute();
    return rows.map((r) => {
      const data = JSON.parse(r.data) as ToggleChangeData;
      return {
        id: Number(r.id),
        appId: r.app_id!,
        env: data.env ?? null,
        at: ms(r.created_at),
        on: switchedOnAlone(data),
      };
    });
  }

  /** Times toggles of the app were switched on in the environment outside a release, from the event log. */
  async togglesSwitchedOn(appId: string, env: string): Promise<number[]> {
    const rows = await this.db
      .selectFrom('events')
      .select(['data', 'created_at'])
      .where('type', '=', 'toggle.changed')
      .where('app_id', '=', appId)
      .execute();
    const out: number[] = [];
    for (const r of rows) {
      const data = JSON.parse(r.data) as ToggleChangeData;
      if (data.env === env && switchedOnAlone(data)) out.push(ms(r.created_at));
    }
    return out;
  }

  /** One app's history in the events-file format (docs/metrics.md), incidents apart. */
  async exportApp(appId: string, app: string): Promise<Required<Omit<MetricsInput, 'incidents'>>> {
    const commits = await this.db
      .selectFrom('commits')
      .select(['sha', 'parents', 'committed_at', 'message'])
      .where('app_id', '=', appId)
      .orderBy('committed_at')
      .execute();
    const deployments = await this.db
      .selectFrom('deployments')
      .select([
        'id',
        'env',
        'sha',
        'status',
        'trigger',
        'requested_at',
        'started_at',
        'finished_at',
        'remediates',
      ])
      .where('app_id', '=', appId)
      .where('finished_at', 'is not', null)
      .orderBy('finished_at')
      .execute();
    const builds = await this.db
      .selectFrom('builds')
      .select(['id', 'sha', 'status', 'queued_at', 'started_at', 'finished_at', 'slo_ms'])
      .where('app_id', '=', appId)
      .orderBy('queued_at')
      .execute();
    const releases = await this.db
      .selectFrom('releases')
      .innerJoin('release_changes', 'release_changes.release_id', 'releases.id')
      .select(['releases.name', 'release_changes.env', 'releases.applied_at'])
      .distinct()
      .where('release_changes.app_id', '=', appId)
      .where('releases.status', 'in', APPLIED)
      .where('releases.applied_at', 'is not', null)
      .execute();
    const toggles = await this.db
      .selectFrom('events')
      .select(['subject', 'data', 'created_at'])
      .where('type', '=', 'toggle.changed')
      .where('app_id', '=', appId)
      .orderBy('id')
      .execute();
    return {
      commits: commits.map((c) => ({
        sha: c.sha,
        parents: JSON.parse(c.parents),
        committedAt: c.committed_at,
        message: c.message,
      })),
      deployments: deployments.map((d) => ({
        id: d.id,
        app,
        env: d.env,
        sha: d.sha,
        status: d.status as DeploymentEvent['status'],
        trigger: d.trigger as DeploymentEvent['trigger'],
        requestedAt: d.requested_at,
        startedAt: d.started_at,
        finishedAt: d.finished_at,
        ...(d.remediates && { remediates: d.remediates }),
      })),
      builds: builds.map((b) => ({
        id: b.id,
        app,
        sha: b.sha,
        status: b.status as BuildEvent['status'],
        queuedAt: b.queued_at,
        startedAt: b.started_at,
        finishedAt: b.finished_at,
        sloMs: Number(b.slo_ms),
      })),
      releases: releases.map((r) => ({ name: r.name, app, env: r.env, appliedAt: r.applied_at! })),
      toggleChanges: toggles.flatMap((t) => {
        const data = JSON.parse(t.data) as ToggleChangeData;
        if (!data.env || !data.before || !data.after) return [];
        return [
          {
            app,
            env: data.env,
            toggle: t.subject ?? '',
            at: t.created_at,
            enabledBefore: Boolean(data.before.enabled),
            enabledAfter: Boolean(data.after.enabled),
            ...(data.release && { release: data.release }),
          },
        ];
      }),
    };
  }
}
