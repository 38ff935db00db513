import type { EnvironmentSpec } from '@gantry/driver-api';
import type { Logger } from 'pino';
import type { EventStore } from '../../events/event-store.js';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../apps/app-store.js';
import type { ArtifactService } from '../artifacts/artifact-service.js';
import type { DeploymentStore } from '../deployments/deployment-store.js';
import type { EnvironmentStore } from '../environments/environment-store.js';
import type { HostJobPayload, RemoteArtifact } from './host-jobs.js';

/** What a host that another agent took over should serve, and what to record when it does. */
export interface HostRestorer {
  /** Each environment on `host` with its last healthy release (none while a deployment holds it). */
  releasesFor(host: string): Promise<HostJobPayload[]>;
  /** A restore job ended on `host`. */
  restored(
    host: string,
    payload: HostJobPayload,
    outcome: { ok: true; result: unknown } | { ok: false; error: string },
  ): Promise<void>;
}

export interface HostRestoreDeps {
  envs: Pick<EnvironmentStore, 'list'>;
  apps: Pick<AppService, 'getById' | 'getByName'>;
  deployments: Pick<DeploymentStore, 'lastSucceeded'>;
  artifacts: Pick<ArtifactService, 'get' | 'releaseArtifact'>;
  specFor(
    app: AppRecord,
    env: string,
    sha: string,
    opts: { secrets?: boolean },
  ): Promise<{ spec: EnvironmentSpec; driver: string }>;
  events: Pick<EventStore, 'append'>;
  logger: Logger;
}

/**
 * A host taken over by another agent process (a new machine for the label, or its agent restarted)
 * gets, before anything else, a restore job per environment that lives on it: its last healthy
 * release, deployed there with that host's driver (nothing changes where it already serves), so a
 * replaced machine serves without waiting for the next deployment. An environment a deployment
 * holds is left to that deployment. Restores are recorded as events, not deployments: nothing new
 * is released.
 */
export class HostRestore implements HostRestorer {
  constructor(private readonly d: HostRestoreDeps) {}

  async releasesFor(host: string): Promise<HostJobPayload[]> {
    const out: HostJobPayload[] = [];
    for (const record of await this.d.envs.list()) {
      if (record.activeDeploymentId) continue;
      try {
        const last = await this.d.deployments.lastSucceeded(record.appId, record.name);
        if (!last?.artifactId) continue;
        const app = await this.d.apps.getById(record.appId);
        const { spec, driver } = await this.d.specFor(app, record.name, last.sha, { secrets: true });
        if (!spec.hosts?.includes(host)) continue;
        const artifact = await this.d.artifacts.get(last.artifactId);
        const remote: RemoteArtifact =
          artifact.kind === 'image' && artifact.reference
            ? ((await this.d.artifacts.releaseArtifact(app, artifact)) as RemoteArtifact)
            : { kind: 'tarball', digest: artifact.digest };
        out.push({
          driver,
          spec,
          release: { sha: last.sha, deploymentId: last.id, artifact: remote },
          fence: record.fence,
        });
      } catch (err) {
        this.d.logger.warn(
          { err, host, env: record.name },
          'could not tell what a taken-over host should serve',
        );
      }
    }
    return out;
  }

  async restored(
    host: string,
    payload: HostJobPayload,
    outcome: { ok: true; result: unknown } | { ok: false; error: string },
  ): Promise<void> {
    const app = payload.spec.app;
    const { sha, deploymentId } = payload.release!;
    const appId = (await this.d.apps.getByName(app).catch(() => null))?.id ?? null;
    await this.d.events.append({
      type: outcome.ok ? 'environment.host_restored' : 'environment.host_restore_failed',
      appId,
      subject: payload.spec.name,
      actor: 'deployer',
      data: {
        host,
        sha,
        deployment: deploymentId,
        ...(outcome.ok
          ? { kind: (outcome.result as { kind?: string } | null)?.kind ?? null }
          : { error: outcome.error }),
      },
    });
    if (!outcome.ok)
      this.d.logger.warn(
        { host, app, env: payload.spec.name, error: outcome.error },
        'restoring a host failed',
      );
  }
}
