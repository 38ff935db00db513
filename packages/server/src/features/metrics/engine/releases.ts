import { countBuckets } from './frequency.js';
import { inWindow, iso, ms, toWindow } from './time.js';
import { type Bucket, DEFAULT_ENV, type MetricsInput, type Scope } from './types.js';

export interface ReleaseFrequency {
  bucket: Bucket;
  releases: number;
  togglesOn: number;
  buckets: { start: string; releases: number; togglesOn: number }[];
}

/** Counted apart from deployments and never summed into them. Anchors: applied, switched. */
export function releaseFrequency(input: MetricsInput, scope: Scope & { bucket: Bucket }): ReleaseFrequency {
  const w = toWindow(scope.from, scope.to);
  const env = scope.env ?? DEFAULT_ENV;
  const releases = (input.releases ?? [])
    .filter((r) => r.env === env && (r.app === undefined || r.app === scope.app))
    .map((r) => ms(r.appliedAt));
  const togglesOn = (input.toggleChanges ?? [])
    .filter((t) => t.app === scope.app && t.env === env && !t.enabledBefore && t.enabledAfter)
    .map((t) => ms(t.at));
  const r = countBuckets(releases, (t) => t, w, scope.bucket);
  const t = countBuckets(togglesOn, (x) => x, w, scope.bucket);
  return {
    bucket: scope.bucket,
    releases: releases.filter((x) => inWindow(x, w)).length,
    togglesOn: togglesOn.filter((x) => inWindow(x, w)).length,
    buckets: [...r].map(([start, items]) => ({
      start: iso(start),
      releases: items.length,
      togglesOn: t.get(start)?.length ?? 0,
    })),
  };
}
