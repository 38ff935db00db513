import type { SqlMetricsStore } from './sql-metrics-store.js';

/**
 * How many times each app's environment had a toggle switched on outside a release, over all time,
 * without reading the whole event log at every scrape: events older than `settleMs` are counted once
 * and remembered with the id they reached; each call reads only the events after that id. The margin
 * covers PostgreSQL ids taken by a transaction that commits after a later one (a transaction open for
 * longer than `settleMs` could be missed; toggle changes commit in milliseconds).
 */
export class ToggleSwitchTally {
  private settledId = 0;
  private readonly settled = new Map<string, number>();

  constructor(private readonly settleMs = 60_000) {}

  /** Counts keyed `<appId>\0<env>`. */
  async counts(store: SqlMetricsStore, now: number): Promise<Map<string, number>> {
    const out = new Map(this.settled);
    let settling = true;
    for (const e of await store.toggleSwitchesAfter(this.settledId)) {
      settling &&= e.at <= now - this.settleMs;
      const key = e.on && e.env ? `${e.appId}\u0000${e.env}` : null;
      if (key) out.set(key, (out.get(key) ?? 0) + 1);
      if (!settling) continue;
      this.settledId = e.id;
      if (key) this.settled.set(key, (this.settled.get(key) ?? 0) + 1);
    }
    return out;
  }
}
