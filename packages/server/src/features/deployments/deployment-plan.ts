import type { DeployPlan, RunningRelease } from '@gantry/driver-api';
import type { DeploymentStore } from './deployment-store.js';

/**
 * What an environment runs, as far as the records know: the serving release, then the previous
 * distinct successful releases (warm standbys for drivers that keep them). Pure input for
 * `driver.plan`, so `--dry-run` needs no access to the environment itself.
 */
export async function knownReleases(
  store: DeploymentStore,
  appId: string,
  env: string,
  standby: number,
): Promise<RunningRelease[]> {
  const history = await store.list({ appId, env, status: 'succeeded', limit: 50 });
  const out: RunningRelease[] = [];
  for (const d of history) {
    if (out.some((r) => r.sha === d.sha)) continue;
    const state = out.length === 0 ? 'serving' : out.length <= standby ? 'standby' : 'stopped';
    out.push({ sha: d.sha, digest: d.digest ?? '', state });
  }
  return out;
}

export interface DryRun {
  dryRun: true;
  env: string;
  sha: string;
  driver: string;
  plan: DeployPlan;
}
