import type { Incident } from '@gantry/contracts';
import type { Db } from '../../db/database.js';
import { Conflict, InvalidInput, NotFound } from '../../errors.js';
import type { EventStore } from '../../events/event-store.js';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../apps/app-store.js';
import type { DeploymentStore } from '../deployments/deployment-store.js';
import type { IncidentStore, MetricsIncident } from './incident-store.js';
import { SqlIncidentStore } from './sql-incident-store.js';

export interface IncidentDeps {
  store: IncidentStore;
  apps: Pick<AppService, 'get'>;
  deployments: Pick<DeploymentStore, 'find'>;
  /** The environments an app has: declared in gantry.yaml at its head, or used before. */
  environments(app: AppRecord): Promise<string[]>;
  events: EventStore;
}

export interface OpenIncident {
  /** App name or id. */
  app: string;
  env: string;
  deploymentId?: string | null;
  title?: string | null;
  actor: string;
}

export interface IncidentFilter {
  app?: string;
  env?: string;
  open?: boolean;
  limit?: number;
}

/** Incidents in an app's environments; opening and resolving each append an event. */
export class IncidentService {
  constructor(private readonly d: IncidentDeps) {}

  async open(r: OpenIncident): Promise<Incident> {
    const app = await this.d.apps.get(r.app);
    const envs = await this.d.environments(app);
    if (!envs.includes(r.env)) {
      throw new InvalidInput(
        envs.length
          ? `app "${app.name}" has no environment "${r.env}"; its environments are ${envs.join(', ')}`
          : `app "${app.name}" has no environments yet; declare them under environments in gantry.yaml`,
        { env: r.env, environments: envs },
      );
    }
    const deploymentId = r.deploymentId || null;
    if (deploymentId) {
      const d = await this.d.deployments.find(deploymentId);
      if (!d) {
        throw new NotFound(
          `no deployment "${deploymentId}"; see \`gantry history ${r.env} --app ${app.name}\``,
        );
      }
      if (d.appId !== app.id || d.env !== r.env) {
        throw new InvalidInput(
          `deployment ${deploymentId} is of ${d.app}/${d.env}, not ${app.name}/${r.env}; ` +
            `link one of ${app.name}/${r.env} (see \`gantry history ${r.env} --app ${app.name}\`)`,
        );
      }
    }
    const incident = await this.d.store.insert({
      appId: app.id,
      env: r.env,
      deploymentId,
      title: r.title?.trim() || `Incident in ${app.name}/${r.env}`,
      openedBy: r.actor,
    });
    await this.event('incident.opened', app.id, incident, r.actor);
    return incident;
  }

  async resolve(id: string, actor: string): Promise<Incident> {
    const before = await this.get(id);
    // The update is guarded by `resolved_at IS NULL`, so of two racing resolves one wins.
    if (before.resolvedAt || !(await this.d.store.resolve(id, actor))) {
      const now = await this.get(id);
      throw new Conflict(
        `incident ${id} was already resolved by ${now.resolvedBy} at ${now.resolvedAt}; open a new one if it is back`,
        { resolvedAt: now.resolvedAt, resolvedBy: now.resolvedBy },
      );
    }
    const incident = await this.get(id);
    const app = await this.d.apps.get(incident.app);
    await this.event('incident.resolved', app.id, incident, actor);
    return incident;
  }

  async get(id: string): Promise<Incident> {
    const incident = await this.d.store.find(id);
    if (!incident) throw new NotFound(`no incident "${id}"; see \`gantry incident list\``);
    return incident;
  }

  /** Newest first. */
  async list(f: IncidentFilter = {}): Promise<Incident[]> {
    const appId = f.app ? (await this.d.apps.get(f.app)).id : undefined;
    return this.d.store.list({ appId, env: f.env, open: f.open, limit: f.limit });
  }

  /** What the metrics engine reads: every incident of an app (by name) and environment, oldest first. */
  listForMetrics(filter: { app?: string; env?: string } = {}): Promise<MetricsIncident[]> {
    return this.d.store.listForMetrics(filter);
  }

  private event(
    type: 'incident.opened' | 'incident.resolved',
    appId: string,
    incident: Incident,
    actor: string,
  ) {
    return this.d.events.append({ type, appId, subject: incident.id, actor, data: { incident } });
  }
}

/** The service over a `Db`, so it can run inside a transaction as well. */
export function createIncidentService(db: Db, deps: Omit<IncidentDeps, 'store'>): IncidentService {
  return new IncidentService({ ...deps, store: new SqlIncidentStore(db) });
}
