import type { Deployment } from '@gantry/contracts';
import { z } from 'zod';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../apps/app-store.js';
import type { CommitStore } from '../commits/commit-store.js';
import { environmentOf } from '../environments/environment-specs.js';
import type { Deployer } from './deployer.js';
import { knownReleases } from './deployment-plan.js';
import type { DeploymentService } from './deployment-service.js';
import type { DeploymentStore } from './deployment-store.js';
import type { DriverRegistry } from './driver-registry.js';

/** One commit as the console shows it: SHA, first line, author, when. */
export const commitLineSchema = z.object({
  sha: z.string(),
  subject: z.string(),
  authorName: z.string(),
  committedAt: z.string(),
});
export type CommitLine = z.infer<typeof commitLineSchema>;

/** What the console's release facts read. */
export interface ReleaseFactsDeps {
  apps: Pick<AppService, 'mirrorOf'>;
  commitStore: Pick<CommitStore, 'find'>;
  deploymentStore: DeploymentStore;
  deployments: Pick<DeploymentService, 'configAt'>;
  deployer: Pick<Deployer, 'specFor'>;
  drivers: Pick<DriverRegistry, 'for'>;
}

const subjectOf = (message: string) => message.split('\n')[0] ?? '';

/** The commit behind a SHA, from the commit store; null when Gantry never saw it. */
export async function commitLine(
  g: Pick<ReleaseFactsDeps, 'commitStore'>,
  app: AppRecord,
  sha: string,
): Promise<CommitLine | null> {
  const c = await g.commitStore.find(app.id, sha);
  return c
    ? { sha, subject: subjectOf(c.message), authorName: c.authorName, committedAt: c.committedAt }
    : null;
}

/**
 * The commits `upstreamSha` has that `sha` does not (what a promotion ships), newest first, from
 * git. Null when git cannot tell (a SHA not in the mirror).
 */
export async function commitsBetween(
  g: Pick<ReleaseFactsDeps, 'apps'>,
  app: AppRecord,
  sha: string | null,
  upstreamSha: string,
): Promise<CommitLine[] | null> {
  if (sha === upstreamSha) return [];
  try {
    const commits = await g.apps.mirrorOf(app).newCommits(sha, upstreamSha);
    return commits.reverse().map((c) => ({
      sha: c.sha,
      subject: subjectOf(c.message),
      authorName: c.authorName,
      committedAt: c.committedAt,
    }));
  } catch {
    return null;
  }
}

/** The environment's promote_from in gantry.yaml at the app's head, or null. */
export async function upstreamOf(
  g: Pick<ReleaseFactsDeps, 'deployments'>,
  app: AppRecord,
  env: string,
): Promise<string | null> {
  const config = app.headSha ? await g.deployments.configAt(app, app.headSha) : undefined;
  return environmentOf(config, env)?.promote_from ?? null;
}

/**
 * The SHAs a deployment of the environment would reach by switching to an already running
 * release (the driver's own plan says `switch`): its warm standbys, newest first.
 */
export async function warmStandbys(
  g: Pick<ReleaseFactsDeps, 'deploymentStore' | 'deployer' | 'drivers'>,
  app: AppRecord,
  env: string,
  current: Deployment | null | undefined,
): Promise<{ sha: string; digest: string }[]> {
  if (!current) return [];
  try {
    const { spec, driver } = await g.deployer.specFor(app, env, current.sha);
    const releases = await knownReleases(g.deploymentStore, app.id, env, spec.standby);
    const d = g.drivers.for(driver, spec);
    return releases
      .filter((r) => r.state === 'standby')
      .filter(
        (r) => d.plan({ env: spec, target: { sha: r.sha, digest: r.digest }, releases }).kind === 'switch',
      )
      .map((r) => ({ sha: r.sha, digest: r.digest }));
  } catch {
    return [];
  }
}
