import type { Db } from '../../src/db/database.js';
import type { MetricsInput } from '../../src/features/metrics/engine/index.js';

const CHUNK = 400;

async function insertChunks<T>(rows: readonly T[], insert: (part: T[]) => Promise<unknown>, chunk = CHUNK) {
  for (let i = 0; i < rows.length; i += chunk) await insert(rows.slice(i, i + chunk));
}

/**
 * Writes a history straight into the tables the metrics read (apps, commits, deployments, builds,
 * incidents): for tests that compare the server with the engine, and for the benchmark's year of
 * history. Nothing here is a product path; the ledger then records it as the server would.
 */
export async function seedHistory(db: Db, input: MetricsInput): Promise<Map<string, string>> {
  const now = new Date().toISOString();
  const appNames = [
    ...new Set([
      ...input.deployments.map((d) => d.app),
      ...input.builds.map((b) => b.app),
      ...input.incidents.map((i) => i.app),
    ]),
  ];
  const appIds = new Map(appNames.map((name) => [name, `app_seed_${name}`]));
  const existing = new Set(
    appNames.length
      ? (await db.selectFrom('apps').select('name').where('name', 'in', appNames).execute()).map(
          (a) => a.name,
        )
      : [],
  );
  const fresh = [...appIds].filter(([name]) => !existing.has(name));
  if (fresh.length)
    await db
      .insertInto('apps')
      .values(
        fresh.map(([name, id]) => ({
          id,
          name,
          repo_url: `/nonexistent/${name}.git`,
          branch: 'main',
          webhook_secret: 'seed',
          poll_interval_ms: 0,
          head_sha: null,
          created_at: now,
        })),
      )
      .execute();
  for (const [name, appId] of appIds) {
    if (existing.has(name)) continue;
    await insertChunks(input.commits, (part) =>
      db
        .insertInto('commits')
        .values(
          part.map((c) => ({
            app_id: appId,
            sha: c.sha,
            parents: JSON.stringify(c.parents),
            author_name: 'seed',
            author_email: 'seed@example.com',
            authored_at: c.committedAt,
            committed_at: c.committedAt,
            message: c.message ?? '',
            seen_at: c.committedAt,
            push_id: null,
          })),
        )
        .execute(),
    );
  }
  await insertChunks(input.deployments, (part) =>
    db
      .insertInto('deployments')
      .values(
        part.map((d) => ({
          id: d.id,
          app_id: appIds.get(d.app)!,
          env: d.env,
          sha: d.sha,
          previous_sha: null,
          artifact_id: null,
          digest: null,
          trigger: d.trigger,
          actor: 'seed',
          reason: null,
          tag: null,
          forced: 0,
          status: d.status,
          kind: null,
          phases: '[]',
          error: null,
          runner_id: null,
          requested_at: d.requestedAt,
          started_at: d.startedAt,
          finished_at: d.finishedAt,
          remediates: d.remediates ?? null,
        })),
      )
      .execute(),
  );
  await insertChunks(input.builds, (part) =>
    db
      .insertInto('builds')
      .values(
        part.map((b) => ({
          id: b.id,
          app_id: appIds.get(b.app)!,
          sha: b.sha,
          status: b.status,
          reason: 'push',
          requested_by: 'seed',
          queued_at: b.queuedAt,
          started_at: b.startedAt,
          finished_at: b.finishedAt,
          heartbeat_at: null,
          runner_id: null,
          attempt: 1,
          cancel_requested: 0,
          slo_ms: b.sloMs ?? 600_000,
          slo_breached: 0,
          exit_code: null,
          error: null,
          artifact_id: null,
        })),
      )
      .execute(),
  );
  await insertChunks(input.incidents, (part) =>
    db
      .insertInto('incidents')
      .values(
        part.map((i) => ({
          id: i.id,
          app_id: appIds.get(i.app)!,
          env: i.env,
          deployment_id: i.deploymentId ?? null,
          title: `incident ${i.id}`,
          opened_at: i.openedAt,
          opened_by: 'seed',
          resolved_at: i.resolvedAt ?? null,
          resolved_by: i.resolvedAt ? 'seed' : null,
        })),
      )
      .execute(),
  );
  return appIds;
}
