import type { Deployment, Revert } from '@gantry/contracts';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../apps/app-store.js';
import { knownReleases } from '../deployments/deployment-plan.js';
import type { DeploymentStore } from '../deployments/deployment-store.js';
import { rollbackTarget } from '../deployments/rollback-target.js';
import type { EnvironmentStore } from '../environments/environment-store.js';
import type { RevertStore } from '../reverts/revert-store.js';
import type { AppHold, Pin } from './retention-plan.js';
import type { InFlightDeployment, RetentionStore } from './retention-store.js';

/**
 * Warm standbys assumed for an environment whose gantry.yaml cannot be read (a SHA missing from this
 * server's mirror): more than the default 1, so an unknown setting errs on keeping.
 */
export const UNKNOWN_STANDBY = 3;

export interface PinSources {
  store: Pick<RetentionStore, 'environments' | 'inFlight'>;
  deploymentStore: DeploymentStore;
  envStore: Pick<EnvironmentStore, 'find'>;
  apps: Pick<AppService, 'getById'>;
  reverts: Pick<RevertStore, 'unfinished'>;
  /** `standby` of the environment in gantry.yaml at `sha`; null when that gantry.yaml cannot be read. */
  standbyOf(app: AppRecord, env: string, sha: string): Promise<number | null>;
}

const short = (sha: string) => sha.slice(0, 12);

const WAITING: Record<InFlightDeployment['status'], string> = {
  awaiting_approval: 'waits for approval',
  queued: 'is queued',
  running: 'is running',
};

/**
 * What must stay whatever the policy says, read from the records: for every environment of every
 * app, the release it serves, its warm standbys (as many as gantry.yaml's `standby` at the serving
 * SHA, newest first, as the deployer counts them) and the release a rollback would switch to;
 * every deployment waiting for approval, queued or running; and every artifact of an app whose
 * revert is in progress (its bisection may deploy any commit since the last good one).
 */
export async function gatherPins(s: PinSources): Promise<{ pins: Pin[]; appHolds: AppHold[] }> {
  const pins: Pin[] = [];
  for (const { appId, env } of await s.store.environments())
    pins.push(...(await environmentPins(s, appId, env)));
  for (const d of await s.store.inFlight())
    pins.push({
      appId: d.appId,
      artifactId: d.artifactId,
      sha: d.sha,
      reason: `deployment ${d.id} to ${d.env} ${WAITING[d.status]}`,
    });
  const appHolds = (await s.reverts.unfinished()).map((r: Revert) => ({
    appId: r.appId,
    reason: `revert ${r.id} of ${r.env} is ${r.status}: it may deploy any commit${r.goodSha ? ` since ${short(r.goodSha)}` : ''}`,
  }));
  return { pins, appHolds };
}

async function environmentPins(s: PinSources, appId: string, env: string): Promise<Pin[]> {
  const current = await s.deploymentStore.lastSucceeded(appId, env);
  if (!current) return [];
  const app = await s.apps.getById(appId).catch(() => undefined);
  if (!app) return [];
  const pins: Pin[] = [
    { appId, artifactId: current.artifactId, sha: current.sha, reason: `${env} runs it (${current.id})` },
  ];
  const history = await s.deploymentStore.list({ appId, env, limit: 1000 });
  /** The artifact the newest successful deployment of `sha` recorded: the one the environment has. */
  const recorded = (sha: string) => lastOf(history, sha)?.artifactId ?? null;

  const configured = await s.standbyOf(app, env, current.sha).catch(() => null);
  const standby = configured ?? UNKNOWN_STANDBY;
  const unknown =
    configured === null
      ? ` (gantry.yaml at ${short(current.sha)} unreadable: ${UNKNOWN_STANDBY} assumed)`
      : '';
  for (const r of await knownReleases(s.deploymentStore, appId, env, standby)) {
    if (r.state === 'standby')
      pins.push({
        appId,
        artifactId: recorded(r.sha),
        sha: r.sha,
        reason: `warm standby of ${env}${unknown}`,
      });
  }

  const hold = (await s.envStore.find(appId, env))?.hold;
  const target = rollbackTarget(history, current.sha, env, { heldSha: hold?.sha }).to;
  if (target)
    pins.push({ appId, artifactId: recorded(target), sha: target, reason: `${env} would roll back to it` });
  return pins;
}

function lastOf(history: Deployment[], sha: string): Deployment | undefined {
  return history
    .filter((d) => d.status === 'succeeded' && d.sha === sha)
    .sort(
      (a, b) =>
        (b.finishedAt ?? b.requestedAt).localeCompare(a.finishedAt ?? a.requestedAt) ||
        b.id.localeCompare(a.id),
    )[0];
}
