import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { BatchedWriter } from './batched-writer.js';
import type { ClientFetch, ClientUsageStore } from './client-usage-store.js';

const MAX_TRACKED = 100_000;

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return typeof v === 'string' && v !== '' ? v.slice(0, 255) : undefined;
};

/**
 * Which revision each SDK instance last fetched. Every fetch is noted in memory; a timer writes
 * the instances whose revision changed about once a second, and an unchanged one at most once per
 * `refreshMs` (its last-seen time), so polling SDKs cost no database write per poll.
 */
export class ClientFetchTracker extends BatchedWriter {
  private pending = new Map<string, ClientFetch>();
  private readonly written = new Map<string, { etag: string; at: number }>();

  constructor(
    private readonly store: ClientUsageStore,
    private readonly logger: Logger,
    flushMs = 1000,
    private readonly refreshMs = 60_000,
  ) {
    super(flushMs);
  }

  /** Notes a fetch from the SDK headers (`unleash-appname`, `unleash-instanceid`); others are not SDKs. */
  record(
    req: FastifyRequest,
    f: { appId: string; env: string; tokenId: string; tokenName: string },
    revision: number,
    etag: string,
    mode: ClientFetch['mode'],
  ): void {
    const appName = header(req, 'unleash-appname');
    const instanceId = header(req, 'unleash-instanceid');
    if (!appName || !instanceId) return;
    const key = `${f.appId}\u0000${f.env}\u0000${appName}\u0000${instanceId}`;
    const now = Date.now();
    const last = this.written.get(key);
    if (last && last.etag === etag && now - last.at < this.refreshMs && !this.pending.has(key)) return;
    this.pending.set(key, {
      ...f,
      appName,
      instanceId,
      sdkVersion: header(req, 'unleash-sdk') ?? null,
      revision,
      etag,
      mode,
      at: new Date(now).toISOString(),
    });
    if (this.written.size >= MAX_TRACKED) this.written.clear();
    this.written.set(key, { etag, at: now });
    this.schedule();
  }

  protected async write(): Promise<void> {
    const fetches = [...this.pending.values()];
    this.pending = new Map();
    if (fetches.length === 0) return;
    try {
      await this.store.recordFetches(fetches);
    } catch (err) {
      for (const f of fetches)
        this.written.delete(`${f.appId}\u0000${f.env}\u0000${f.appName}\u0000${f.instanceId}`);
      this.logger.warn({ err, instances: fetches.length }, 'recording SDK fetches failed');
    }
  }
}
