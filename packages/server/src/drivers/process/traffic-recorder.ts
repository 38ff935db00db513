import type { TrafficReport, TrafficSample } from '@gantry/driver-api';

/** How long the proxy remembers traffic: a watch of a few minutes and the release before it fit. */
export const TRAFFIC_WINDOW_S = 30 * 60;

// Latency histogram: bin 0 holds ≤ 1 ms, bin k holds (2^((k-1)/4), 2^(k/4)] ms, so each bin is
// 19% wider than the one before and a p95 read from it is within that of the truth (interpolation
// within the bin usually does better); the last bin holds everything over 2^16 ms ≈ 65.5 s.
const STEPS_PER_DOUBLING = 4;
const BOUNDED_BINS = 16 * STEPS_PER_DOUBLING + 1;
const BINS = BOUNDED_BINS + 1;
/** Stale slots (seconds that saw no new traffic for a whole window) are cleared at most this often. */
const SWEEP_EVERY_S = 60;

interface Bucket {
  /** When the SHA's first request of this second finished: orders the report. */
  firstMs: number;
  requests: number;
  errors: number;
  latency: Uint32Array;
}

interface Slot {
  second: number;
  bySha: Map<string, Bucket>;
}

export interface TrafficRecorderOptions {
  /** Epoch milliseconds; injected by tests. */
  now?: () => number;
  windowS?: number;
}

/**
 * What the proxy answered, per upstream SHA, over the last `windowS` seconds.
 *
 * _Why per-second buckets with a fixed histogram rather than a ring of samples_: a ring keeps its
 * promise of bounded memory only by forgetting: at thousands of requests per second a ring of any
 * reasonable size holds a few seconds, not the release before the one being watched. Buckets cost
 * the same whatever the rate: a ring of `windowS` slots, one per second, each holding one bucket per
 * SHA that finished a request in that second (the serving release, and the one before it while it
 * drains), a bucket being three numbers and BINS (66) 32-bit counts: ≈ 750 bytes measured with
 * V8's overheads, so 30 minutes of traffic on one release take ≈ 1.3 MB, at 1 request per second
 * as at 10,000. The hot path is a clock read, a slot index, one Map lookup, a log2 and three
 * increments, with an allocation once per second and SHA; merging and the percentile are paid by
 * `report`, which a watch calls every few seconds at most.
 */
export class TrafficRecorder {
  private readonly now: () => number;
  private readonly windowS: number;
  private readonly slots: Array<Slot | undefined>;
  private readonly startedMs: number;
  private nextSweepS = 0;

  constructor(opts: TrafficRecorderOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.windowS = opts.windowS ?? TRAFFIC_WINDOW_S;
    this.slots = new Array<Slot | undefined>(this.windowS);
    this.startedMs = this.now();
  }

  /**
   * One request that finished now. `latencyMs`: from its arrival to its response's headers (or to
   * when it ended without any). `error`: a 5xx, or an answer that never came whole.
   */
  record(sha: string, latencyMs: number, error: boolean): void {
    const nowMs = this.now();
    const second = Math.floor(nowMs / 1000);
    const index = second % this.windowS;
    let slot = this.slots[index];
    if (slot?.second !== second) {
      // A new second: the slot's previous second left the window; now and then, clear other stale ones.
      if (second >= this.nextSweepS) this.sweep(second);
      if (slot) {
        slot.second = second;
        slot.bySha.clear();
      } else {
        slot = { second, bySha: new Map() };
        this.slots[index] = slot;
      }
    }
    let bucket = slot.bySha.get(sha);
    if (!bucket) {
      bucket = { firstMs: nowMs, requests: 0, errors: 0, latency: new Uint32Array(BINS) };
      slot.bySha.set(sha, bucket);
    }
    bucket.requests++;
    if (error) bucket.errors++;
    bucket.latency[binOf(latencyMs)]!++;
  }

  /**
   * Requests that finished since `sinceMs`, per SHA, oldest release first (by its first request
   * counted). Counted in whole seconds: the second holding `sinceMs` counts whole, and the
   * report's `sinceMs` is the start of that second.
   */
  report(sinceMs: number): TrafficReport {
    const nowS = Math.floor(this.now() / 1000);
    const oldestS = nowS - this.windowS + 1;
    const sinceS = Math.floor(sinceMs / 1000);
    const fromS = Math.max(sinceS, oldestS);
    const merged = new Map<string, Bucket>();
    for (const slot of this.slots) {
      if (!slot || slot.second < fromS || slot.second > nowS) continue;
      for (const [sha, bucket] of slot.bySha) {
        let into = merged.get(sha);
        if (!into) {
          into = { firstMs: bucket.firstMs, requests: 0, errors: 0, latency: new Uint32Array(BINS) };
          merged.set(sha, into);
        }
        into.requests += bucket.requests;
        into.errors += bucket.errors;
        into.firstMs = Math.min(into.firstMs, bucket.firstMs);
        for (let k = 0; k < BINS; k++) into.latency[k]! += bucket.latency[k]!;
      }
    }
    const releases: TrafficSample[] = [...merged]
      .sort(([a, x], [b, y]) => x.firstMs - y.firstMs || (a < b ? -1 : 1))
      .map(([sha, b]) => ({
        sha,
        requests: b.requests,
        errors: b.errors,
        p95Ms: percentile(b.latency, b.requests, 0.95),
      }));
    return { sinceMs: sinceS * 1000, coveredFromMs: Math.max(oldestS * 1000, this.startedMs), releases };
  }

  /** Buckets held now, seconds outside the window included: what the memory bound is about. */
  bucketCount(): number {
    let count = 0;
    for (const slot of this.slots) count += slot?.bySha.size ?? 0;
    return count;
  }

  /** Clears slots whose second left the window and saw no traffic since (nothing reused them). */
  private sweep(nowS: number): void {
    this.nextSweepS = nowS + SWEEP_EVERY_S;
    for (const slot of this.slots) {
      if (slot && slot.second <= nowS - this.windowS) slot.bySha.clear();
    }
  }
}

export function binOf(latencyMs: number): number {
  if (!(latencyMs > 1)) return 0; // NaN and negative too
  const k = Math.ceil(Math.log2(latencyMs) * STEPS_PER_DOUBLING);
  return Math.min(k, BOUNDED_BINS);
}

/** The upper bound of bin `k` in ms (the overflow bin has none: its lower bound stands for it). */
export function binUpperMs(k: number): number {
  return 2 ** (Math.min(k, BOUNDED_BINS - 1) / STEPS_PER_DOUBLING);
}

/** Nearest-rank percentile, placed linearly within its bin; null without samples. */
export function percentile(latency: Uint32Array, total: number, p: number): number | null {
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let below = 0;
  for (let k = 0; k < BINS; k++) {
    const inBin = latency[k]!;
    if (below + inBin >= rank) {
      const lower = k === 0 ? 0 : binUpperMs(k - 1);
      if (k === BOUNDED_BINS) return round(lower);
      return round(lower + ((binUpperMs(k) - lower) * (rank - below)) / inBin);
    }
    below += inBin;
  }
  return null;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
