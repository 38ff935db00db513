import type { EnvironmentState } from '@gantry/contracts';

type Health = NonNullable<EnvironmentState['health']>;

/**
 * Health answers for status reads, shared for `ttlMs`: callers asking about the same environment
 * and deployment while a probe runs wait for that probe, and its answer serves them until it is
 * `ttlMs` old. A new deployment (a rollback too) has a new key, so its first read probes afresh.
 * Only the status routes read through it; deployments always probe themselves.
 */
export class HealthCache {
  private readonly entries = new Map<string, { at: number; answer: Promise<Health> }>();

  constructor(
    private readonly ttlMs = 1_000,
    private readonly now = () => Date.now(),
  ) {}

  get(key: string, probe: () => Promise<Health>): Promise<Health> {
    const t = this.now();
    const hit = this.entries.get(key);
    if (hit && t - hit.at < this.ttlMs) return hit.answer;
    if (this.entries.size > 10_000) this.sweep(t);
    // Its time starts when the probe ends: a slow probe's answer still serves for ttlMs.
    const entry = { at: Number.POSITIVE_INFINITY, answer: probe() };
    this.entries.set(key, entry);
    entry.answer.then(
      () => {
        entry.at = this.now();
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry.answer;
  }

  private sweep(t: number): void {
    for (const [key, e] of this.entries) if (t - e.at >= this.ttlMs) this.entries.delete(key);
  }
}

/** Maps `items` with at most `limit` calls of `fn` running at once; the results keep their order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
