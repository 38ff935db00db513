import type { Logger } from 'pino';
import type { Db } from '../../../db/database.js';
import type { ToggleService } from '../toggle-service.js';
import { ClientDeltaCache } from './client-delta-cache.js';
import { ClientFeaturesCache } from './client-features-cache.js';
import { ClientFetchTracker } from './client-fetches.js';
import { ClientMetricsIngest } from './client-metrics.js';
import { ClientUsageStore } from './client-usage-store.js';
import { RateLimiter } from './rate-limiter.js';
import { RevisionWatcher } from './revision-watcher.js';

/** What the SDK-facing endpoints share: revisions, the features cache, metrics ingestion. */
export interface ClientApi {
  watcher: RevisionWatcher;
  features: ClientFeaturesCache;
  /** Recent exact revisions and their delta answers (`/api/client/delta`). */
  delta: ClientDeltaCache;
  usage: ClientUsageStore;
  /** The revision each SDK instance last fetched (throttled writes). */
  fetches: ClientFetchTracker;
  metrics: ClientMetricsIngest;
  /** Register and metrics calls per client token (Unleash defaults to 6000/min per server). */
  limiter: RateLimiter;
  close(): Promise<void>;
}

export interface ClientApiOptions {
  revisionPollMs?: number;
  metricsFlushMs?: number;
  metricsPerSecond?: number;
  metricsBurst?: number;
}

export function createClientApi(
  db: Db,
  toggles: ToggleService,
  logger: Logger,
  o: ClientApiOptions = {},
): ClientApi {
  const watcher = new RevisionWatcher(toggles, logger, o.revisionPollMs ?? 1000);
  const usage = new ClientUsageStore(db);
  const metrics = new ClientMetricsIngest(usage, logger, o.metricsFlushMs ?? 1000);
  const fetches = new ClientFetchTracker(usage, logger, o.metricsFlushMs ?? 1000);
  return {
    watcher,
    features: new ClientFeaturesCache(toggles, watcher),
    delta: new ClientDeltaCache(),
    usage,
    fetches,
    metrics,
    limiter: new RateLimiter(o.metricsPerSecond ?? 1, o.metricsBurst ?? 10),
    async close() {
      watcher.stop();
      await metrics.close();
      await fetches.close();
    },
  };
}
