import { classifyDeployments } from './classify.js';
import { ratio } from './stats.js';
import { bucketStart, bucketStarts, DAY_MS, inWindow, iso, toWindow, type Window } from './time.js';
import type { Bucket, MetricsInput, Scope } from './types.js';

export interface FrequencyBucket {
  start: string;
  deployments: number;
  rollbacks: number;
}

export interface DeploymentFrequency {
  bucket: Bucket;
  deployments: number;
  /** Included in `deployments`, and shown apart. */
  rollbacks: number;
  perDay: number | null;
  buckets: FrequencyBucket[];
  /** Distinct UTC days with at least one deployment, per ISO week overlapping the window. */
  deploymentDaysPerWeek: { weekStart: string; days: number }[];
}

export function countBuckets<T>(
  items: readonly T[],
  at: (item: T) => number,
  w: Window,
  bucket: Bucket,
): Map<number, T[]> {
  const out = new Map<number, T[]>(bucketStarts(w, bucket).map((s) => [s, []]));
  for (const item of items) {
    const t = at(item);
    if (inWindow(t, w)) out.get(bucketStart(t, bucket))?.push(item);
  }
  return out;
}

export function deploymentFrequency(
  input: MetricsInput,
  scope: Scope & { bucket: Bucket },
): DeploymentFrequency {
  const w = toWindow(scope.from, scope.to);
  const { deployments } = classifyDeployments(input, scope);
  const inside = deployments.filter((d) => inWindow(d.finishedAt, w));
  const buckets = [...countBuckets(inside, (d) => d.finishedAt, w, scope.bucket)].map(([start, ds]) => ({
    start: iso(start),
    deployments: ds.length,
    rollbacks: ds.filter((d) => d.kind === 'rollback').length,
  }));
  const weeks = countBuckets(inside, (d) => d.finishedAt, w, 'week');
  return {
    bucket: scope.bucket,
    deployments: inside.length,
    rollbacks: inside.filter((d) => d.kind === 'rollback').length,
    perDay: ratio(inside.length, (w.to - w.from) / DAY_MS),
    buckets,
    deploymentDaysPerWeek: [...weeks].map(([start, ds]) => ({
      weekStart: iso(start),
      days: new Set(ds.map((d) => bucketStart(d.finishedAt, 'day'))).size,
    })),
  };
}
