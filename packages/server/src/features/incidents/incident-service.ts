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
  /** When it began, to record an incident after the fact (ISO-8601 with a zone); default now. */
  openedAt?: string | null;
  /** When it was resolved, for an incident recorded after the fact; it is then opened and resolved. */
  resolvedAt?: string | null;
}

/** How far ahead of this server's clock a given time may be (the caller's clock may run ahead). */
export const CLOCK_SLACK_MS = 60_000;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** A time given with a request, as ISO-8601 UTC; refused when malformed or in the future. */
function givenTime(field: string, value: string, now: number): string {
  const t = Date.parse(value);
  if (!ISO.test(value) || Number.isNaN(t))
    throw new InvalidInput(
      `${field}: expected an ISO-8601 time with a zone, e.g. 2026-01-01T09:00:00Z, got "${value}"`,
      { field },
    );
  if (t > now + CLOCK_SLACK_MS)
    throw new InvalidInput(
      `${field}: ${value} is in the future (this server's clock says ${new Date(now).toISOString()})`,
      { field },
    );
  return new Date(t).toISOString();
}

/** Recovery and time to restore would come out negative: refused (docs/metrics.md, "Bad input"). */
function checkOrder(openedAt: string, resolvedAt: string): void {
  if (Date.parse(resolvedAt) < Date.parse(openedAt))
    throw new InvalidInput(
      `resolvedAt: ${resolvedAt} is before the incident opened (${openedAt}); an incident cannot be resolved before it opens`,
      { field: 'resolvedAt', openedAt, resolvedAt },
    );
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
    const now = Date.now();
    const openedAt = r.openedAt ? givenTime('openedAt', r.openedAt, now) : undefined;
    const resolvedAt = r.resolvedAt ? givenTime('resolvedAt', r.resolvedAt, now) : undefined;
    if (resolvedAt) checkOrder(openedAt ?? new Date(now).toISOString(), resolvedAt);
    const incident = await this.d.store.insert({
      appId: app.id,
      env: r.env,
      deploymentId,
      title: r.title?.trim() || `Incident in ${app.name}/${r.env}`,
      openedBy: r.actor,
      ...(openedAt && { openedAt }),
    });
    await this.event('incident.opened', app.id, incident, r.actor);
    return resolvedAt ? this.resolve(incident.id, r.actor, resolvedAt) : incident;
  }

  /**
   * Resolves an open incident, now or at `resolvedAt` (ISO-8601 with a zone), which may not be before
   * it opened. Resolved "now" by a server whose clock is behind the one that opened it, it is resolved
   * at its opening rather than before it.
   */
  async resolve(id: string, actor: string, resolvedAt?: string | null): Promise<Incident> {
    const before = await this.get(id);
    const now = Date.now();
    let at: string;
    if (resolvedAt) {
      at = givenTime('resolvedAt', resolvedAt, now);
      if (!before.resolvedAt) checkOrder(before.openedAt, at);
    } else at = new Date(Math.max(now, Date.parse(before.openedAt))).toISOString();
    // The update is guarded by `resolved_at IS NULL`, so of two racing resolves one wins.
    if (before.resolvedAt || !(await this.d.store.resolve(id, actor, at))) {
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
