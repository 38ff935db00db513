import type { Deployment, EnvironmentState } from '@gantry/contracts';
import type { AppRecord } from '../apps/app-store.js';
import type { CommitStore } from '../commits/commit-store.js';
import type { Deployer } from '../deployments/deployer.js';
import { isRetryOf } from '../deployments/deployment-retry.js';
import type { DeploymentService } from '../deployments/deployment-service.js';
import type { DeploymentStore } from '../deployments/deployment-store.js';
import type { DriverRegistry } from '../deployments/driver-registry.js';
import { environmentNames, environmentOf, hostsOf } from './environment-specs.js';
import type { EnvironmentStore } from './environment-store.js';
import type { HealthCache } from './health-cache.js';

export interface StatusDeps {
  envs: EnvironmentStore;
  deployments: DeploymentStore;
  service: DeploymentService;
  deployer: Deployer;
  drivers: DriverRegistry;
  commits: CommitStore;
  /** Shares health answers between status reads for a moment (the routes' own cache). */
  health?: HealthCache;
  /** How each deploy agent's host is reached (its `--address`): the URLs of environments on hosts. */
  hostAddresses?: () => Promise<Map<string, string>>;
}

/** `http://address:port`, with an IPv6 address in brackets. */
function urlOf(address: string, port: number): string {
  return `http://${address.includes(':') && !address.startsWith('[') ? `[${address}]` : address}:${port}`;
}

/**
 * The environments an app has: those gantry.yaml declares at its head, in promotion order, then
 * any others it has used (a deployment or a lock made them known).
 */
export async function appEnvironmentNames(
  d: { envs: Pick<EnvironmentStore, 'list'>; service: Pick<DeploymentService, 'configAt'> },
  app: AppRecord,
): Promise<string[]> {
  const config = app.headSha ? await d.service.configAt(app, app.headSha) : undefined;
  const declared = environmentNames(config);
  const known = (await d.envs.list(app.id)).map((e) => e.name);
  return [...declared, ...known.filter((n) => !declared.includes(n))];
}

/** App × environment: what runs where, its health, locks, holds and queue. */
export async function environmentStates(
  d: StatusDeps,
  app: AppRecord,
  host = '127.0.0.1',
): Promise<EnvironmentState[]> {
  const config = app.headSha ? await d.service.configAt(app, app.headSha) : undefined;
  const names = await appEnvironmentNames(d, app);
  const out: EnvironmentState[] = [];
  let addresses: Promise<Map<string, string>> | undefined;
  for (const name of names) {
    const envConfig = environmentOf(config, name);
    const record = await d.service.environment(app, name);
    const current = (await d.deployments.lastSucceeded(app.id, name)) ?? null;
    let health: EnvironmentState['health'] = null;
    if (current) {
      const probe = async () => {
        try {
          const { spec, driver } = await d.deployer.specFor(app, name, current.sha);
          const ctx = d.deployer.context(app, name, AbortSignal.timeout(5_000), () => {});
          return await d.drivers.for(driver, spec).health(spec, ctx);
        } catch (e) {
          return { healthy: false, sha: null, detail: e instanceof Error ? e.message : String(e) };
        }
      };
      health = d.health ? await d.health.get(`${app.id}\0${name}\0${current.id}`, probe) : await probe();
    }
    const commit = current ? await d.commits.find(app.id, current.sha) : undefined;
    const port = envConfig?.port ?? record.port;
    const hosts = hostsOf(envConfig);
    // On deploy agents: each host's address as its agent gives it (the host label until one has).
    if (hosts && !addresses) addresses = d.hostAddresses?.() ?? Promise.resolve(new Map());
    const known = hosts ? await addresses : undefined;
    const urls = hosts?.map((h) => urlOf(known?.get(h) ?? h, port));
    out.push({
      app: app.name,
      env: name,
      port,
      url: urls?.[0] ?? urlOf(host, port),
      driver: envConfig?.driver ?? 'process',
      ...(hosts && { hosts, urls }),
      protected: envConfig?.protected ?? false,
      autoDeploy: envConfig?.auto_deploy ?? false,
      promoteFrom: envConfig?.promote_from ?? null,
      current,
      health,
      commit: commit
        ? { message: commit.message, committedAt: commit.committedAt, authorName: commit.authorName }
        : null,
      lock: record.lock,
      hold: record.hold,
      queue: await d.deployments.queued(app.id, name),
      interrupted: await lastInterrupted(d.deployments, app, name, current),
    });
  }
  return out;
}

async function lastInterrupted(
  deployments: DeploymentStore,
  app: AppRecord,
  env: string,
  current: Deployment | null,
): Promise<EnvironmentState['interrupted']> {
  const recent = await deployments.list({ appId: app.id, env, limit: 20 });
  const cut = recent.find((d) => d.status === 'interrupted');
  if (!cut || (current && current.id > cut.id && !isRetryOf(current, cut))) return null;
  return { deployment: cut, retry: recent.find((d) => isRetryOf(d, cut)) ?? null };
}
