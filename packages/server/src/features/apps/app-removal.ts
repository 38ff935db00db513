import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerConfig } from '../../config/server-config.js';
import type { Database } from '../../db/database.js';
import { Conflict } from '../../errors.js';
import type { EventStore } from '../../events/event-store.js';
import type { ArtifactService } from '../artifacts/artifact-service.js';
import type { TokenService } from '../auth/token-service.js';
import type { BuildService } from '../builds/build-service.js';
import type { Deployer } from '../deployments/deployer.js';
import type { DeploymentStore } from '../deployments/deployment-store.js';
import type { DriverRegistry } from '../deployments/driver-registry.js';
import type { EnvironmentStore } from '../environments/environment-store.js';
import type { AppService } from './app-service.js';
import type { AppRecord } from './app-store.js';

/** What removing an app touches; the composition root (gantry.ts) passes these among all its services. */
export interface AppRemovalDeps {
  config: Pick<ServerConfig, 'dataDir'>;
  database: Pick<Database, 'db'>;
  events: Pick<EventStore, 'append'>;
  apps: Pick<AppService, 'markRemoved' | 'removeMirror'>;
  tokens: Pick<TokenService, 'revokeForApp'>;
  builds: Pick<BuildService, 'cancel'>;
  artifacts: Pick<ArtifactService, 'deleteUnusedBlobs'>;
  envStore: Pick<EnvironmentStore, 'list'>;
  deploymentStore: Pick<DeploymentStore, 'lastSucceeded' | 'list'>;
  deployer: Pick<Deployer, 'specFor' | 'context'>;
  drivers: Pick<DriverRegistry, 'for'>;
}

export interface RemoveAppOptions {
  /** Stop the app's running environments through their drivers (otherwise running ones refuse). */
  stopEnvironments?: boolean;
  /** Delete the app's history too (deployments, builds, events, metrics, toggles, incidents). */
  purge?: boolean;
}

export interface RemovedApp {
  app: string;
  id: string;
  purged: boolean;
  stoppedEnvironments: string[];
  cancelledBuilds: string[];
}

/**
 * Every table holding an app's rows, children before parents (the foreign keys). `apps.test`
 * checks this list against the schema, so a new table cannot be forgotten by `--purge`.
 */
export const APP_TABLES = [
  'secrets',
  'forge_deployments',
  'forge_settings',
  'notification_attempts',
  'notification_deliveries',
  'webhook_subscriptions',
  'reverted_commits',
  'reverts',
  'incidents',
  'metric_commits',
  'metric_deployments',
  'release_changes',
  'toggle_usage',
  'toggle_clients',
  'toggle_revisions',
  'segments',
  'toggles',
  'seen_tags',
  'approvals',
  'approval_requests',
  'deployments',
  'environments',
  'artifacts',
  'builds',
  'commits',
  'pushes',
  'events',
  'tokens',
] as const;

/** Environments of the app where something serves (the driver's own health says so). */
async function runningEnvironments(g: AppRemovalDeps, app: AppRecord): Promise<string[]> {
  const out: string[] = [];
  for (const record of await g.envStore.list(app.id)) {
    if (record.activeDeploymentId) {
      out.push(record.name);
      continue;
    }
    const current = await g.deploymentStore.lastSucceeded(app.id, record.name);
    if (!current) continue;
    try {
      const { spec, driver } = await g.deployer.specFor(app, record.name, current.sha);
      const ctx = g.deployer.context(app, record.name, AbortSignal.timeout(5_000), () => {});
      const health = await g.drivers.for(driver, spec).health(spec, ctx);
      if (health.healthy || health.sha !== null) out.push(record.name);
    } catch {
      // Cannot even ask: treat as running, so nothing is removed from under a live environment.
      out.push(record.name);
    }
  }
  return out;
}

async function stopEnvironment(g: AppRemovalDeps, app: AppRecord, env: string): Promise<void> {
  const ref =
    (await g.deploymentStore.lastSucceeded(app.id, env)) ??
    (await g.deploymentStore.list({ appId: app.id, env, limit: 1 }))[0];
  const sha = ref?.sha ?? app.headSha;
  if (!sha) return;
  const { spec, driver } = await g.deployer.specFor(app, env, sha);
  await g.drivers.for(driver, spec).stop(
    spec,
    g.deployer.context(app, env, new AbortController().signal, () => {}),
  );
}

/** Cancels the app's queued and running builds and waits (bounded) until none runs. */
async function cancelBuilds(g: AppRemovalDeps, app: AppRecord, actor: string): Promise<string[]> {
  const db = g.database.db;
  const active = async () =>
    (
      await db
        .selectFrom('builds')
        .select('id')
        .where('app_id', '=', app.id)
        .where('status', 'in', ['queued', 'running'])
        .execute()
    ).map((r) => r.id);
  const ids = await active();
  for (const id of ids) await g.builds.cancel(id, actor);
  const until = Date.now() + 30_000;
  while ((await active()).length > 0) {
    if (Date.now() > until)
      throw new Conflict(`app "${app.name}" still has a build stopping; try again in a moment`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return ids;
}

/**
 * `DELETE /api/apps/:app`: refuses while environments run (unless told to stop them) or a
 * deployment is queued or running; cancels builds; removes the mirror, the environments' work
 * folders and the app's hook and client tokens; keeps the history unless `purge`. The name can be
 * added again at once.
 */
export async function removeApp(
  g: AppRemovalDeps,
  app: AppRecord,
  opts: RemoveAppOptions,
  actor: string,
): Promise<RemovedApp> {
  const pending = [
    ...(await g.deploymentStore.list({ appId: app.id, status: 'running', limit: 10 })),
    ...(await g.deploymentStore.list({ appId: app.id, status: 'queued', limit: 10 })),
  ];
  if (pending.length > 0) {
    throw new Conflict(
      `app "${app.name}" has deployments in progress (${pending.map((d) => `${d.env}: ${d.status}`).join(', ')}); wait for them to finish, then remove it`,
    );
  }
  const running = await runningEnvironments(g, app);
  if (running.length > 0 && !opts.stopEnvironments) {
    throw new Conflict(
      `app "${app.name}" has running environments (${running.join(', ')}); stop them and remove it with \`gantry app remove ${app.name} --stop-environments\``,
      { running },
    );
  }
  for (const env of running) await stopEnvironment(g, app, env);
  const cancelledBuilds = await cancelBuilds(g, app, actor);

  if (!(await g.apps.markRemoved(app))) throw new Conflict(`app "${app.name}" was removed meanwhile`);
  await g.tokens.revokeForApp(app.id);
  const db = g.database.db;
  // The environments are gone with the app: their locks, holds and ports are state, not history.
  await db.deleteFrom('environments').where('app_id', '=', app.id).execute();
  // Its secrets too: a removed app deploys nothing, and its name may be added again for another repository.
  await db.deleteFrom('secrets').where('app_id', '=', app.id).execute();
  if (opts.purge) {
    const buildIds = (await db.selectFrom('builds').select('id').where('app_id', '=', app.id).execute()).map(
      (r) => r.id,
    );
    const digests = (
      await db.selectFrom('artifacts').select('digest').where('app_id', '=', app.id).execute()
    ).map((r) => r.digest);
    await db.transaction().execute(async (tx) => {
      await tx
        .deleteFrom('build_steps')
        .where('build_id', 'in', tx.selectFrom('builds').select('id').where('app_id', '=', app.id))
        .execute();
      await tx
        .deleteFrom('check_runs')
        .where('deployment_id', 'in', tx.selectFrom('deployments').select('id').where('app_id', '=', app.id))
        .execute();
      await tx
        .deleteFrom('toggle_environments')
        .where('toggle_id', 'in', tx.selectFrom('toggles').select('id').where('app_id', '=', app.id))
        .execute();
      for (const table of APP_TABLES) await tx.deleteFrom(table).where('app_id', '=', app.id).execute();
      await tx.deleteFrom('apps').where('id', '=', app.id).execute();
    });
    for (const id of buildIds)
      await rm(join(g.config.dataDir, 'logs', id), { recursive: true, force: true, maxRetries: 3 });
    // Blobs are shared by digest: only those no other app's artifact uses go.
    await g.artifacts.deleteUnusedBlobs(digests);
  }
  await g.apps.removeMirror(app);
  await rm(join(g.config.dataDir, 'envs', app.name), { recursive: true, force: true, maxRetries: 3 });
  await g.events.append({
    type: 'app.removed',
    appId: opts.purge ? null : app.id,
    subject: app.id,
    actor,
    data: { name: app.name, purged: Boolean(opts.purge), stoppedEnvironments: running },
  });
  return {
    app: app.name,
    id: app.id,
    purged: Boolean(opts.purge),
    stoppedEnvironments: running,
    cancelledBuilds,
  };
}
