import type { Incident } from '@gantry/contracts';

export interface NewIncident {
  appId: string;
  env: string;
  deploymentId: string | null;
  title: string;
  openedBy: string;
  /** ISO-8601 UTC; default now. */
  openedAt?: string;
}

export interface IncidentQuery {
  appId?: string;
  env?: string;
  /** true: only unresolved; false: only resolved; absent: both. */
  open?: boolean;
  limit?: number;
}

/** An incident as the metrics engine reads it (`app` is the app's name). */
export interface MetricsIncident {
  id: string;
  app: string;
  env: string;
  deploymentId?: string;
  openedAt: string;
  resolvedAt: string | null;
}

export interface IncidentStore {
  insert(i: NewIncident): Promise<Incident>;
  find(id: string): Promise<Incident | undefined>;
  /** Newest first. */
  list(q: IncidentQuery): Promise<Incident[]>;
  /** Status-guarded open → resolved at `at` (ISO-8601 UTC); false when it was resolved already. */
  resolve(id: string, by: string, at: string): Promise<boolean>;
  /** Every incident of an app (by name) and environment, oldest first. */
  listForMetrics(filter: { app?: string; env?: string }): Promise<MetricsIncident[]>;
}
