import type { Logger } from 'pino';
import { BatchedWriter } from './batched-writer.js';
import type { ClientInstance, ClientUsageStore, UsageCount } from './client-usage-store.js';

export interface MetricsBucket {
  appId: string;
  env: string;
  appName: string;
  instanceId: string | undefined;
  start: string | number;
  toggles: Record<string, { yes: number; no: number; variants?: Record<string, number> }>;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The UTC hour a bucket counts in; a client clock a day or more off counts now. */
export function hourOf(start: string | number, now = Date.now()): string {
  const t = typeof start === 'number' ? start : Date.parse(start);
  const at = Number.isFinite(t) && Math.abs(t - now) < DAY ? t : now;
  return new Date(Math.floor(at / HOUR) * HOUR).toISOString();
}

/**
 * Register and metrics requests only queue here; a timer folds the queue into hourly counts and
 * writes them about once a second, so SDK traffic never waits on the database.
 */
export class ClientMetricsIngest extends BatchedWriter {
  private buckets: MetricsBucket[] = [];
  private registrations = new Map<string, ClientInstance>();

  constructor(
    private readonly store: ClientUsageStore,
    private readonly logger: Logger,
    flushMs = 1000,
    readonly maxQueued = 50_000,
  ) {
    super(flushMs);
  }

  /** False when the queue is full (the caller answers 429 and the SDK keeps its counts). */
  addMetrics(bucket: MetricsBucket): boolean {
    if (this.buckets.length >= this.maxQueued) return false;
    this.buckets.push(bucket);
    this.schedule();
    return true;
  }

  addRegistration(c: ClientInstance): void {
    this.registrations.set(`${c.appId}\u0000${c.env}\u0000${c.appName}\u0000${c.instanceId}`, c);
    this.schedule();
  }

  protected async write(): Promise<void> {
    const buckets = this.buckets;
    const registrations = [...this.registrations.values()];
    this.buckets = [];
    this.registrations = new Map();
    if (buckets.length === 0 && registrations.length === 0) return;
    const at = new Date().toISOString();
    try {
      if (registrations.length) await this.store.upsertInstances(registrations);
      if (buckets.length) {
        await this.store.addUsage(aggregate(buckets, at));
        await this.store.touchInstances(seenInstances(buckets, at));
      }
    } catch (err) {
      this.logger.warn(
        { err, buckets: buckets.length },
        'writing toggle metrics failed; these counts are lost',
      );
    }
  }
}

function aggregate(buckets: MetricsBucket[], at: string): UsageCount[] {
  const counts = new Map<string, UsageCount>();
  for (const b of buckets) {
    const hour = hourOf(b.start);
    for (const [toggle, t] of Object.entries(b.toggles)) {
      if (t.yes === 0 && t.no === 0) continue;
      const key = `${b.appId}\u0000${toggle}\u0000${b.appName}\u0000${b.env}\u0000${hour}`;
      let c = counts.get(key);
      if (!c) {
        c = {
          appId: b.appId,
          toggle,
          appName: b.appName,
          env: b.env,
          hour,
          yes: 0,
          no: 0,
          variants: {},
          lastSeenAt: at,
        };
        counts.set(key, c);
      }
      c.yes += t.yes;
      c.no += t.no;
      for (const [v, n] of Object.entries(t.variants ?? {})) c.variants[v] = (c.variants[v] ?? 0) + n;
    }
  }
  return [...counts.values()];
}

function seenInstances(buckets: MetricsBucket[], at: string) {
  const seen = new Map<
    string,
    { appId: string; env: string; appName: string; instanceId: string; at: string }
  >();
  for (const b of buckets) {
    if (!b.instanceId) continue;
    seen.set(`${b.appId}\u0000${b.env}\u0000${b.appName}\u0000${b.instanceId}`, {
      appId: b.appId,
      env: b.env,
      appName: b.appName,
      instanceId: b.instanceId,
      at,
    });
  }
  return [...seen.values()];
}
