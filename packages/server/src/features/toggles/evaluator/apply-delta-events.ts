import type { ClientFeatures, FeatureDefinition, SegmentDefinition } from './toggle-types.js';

/** Unleash's delta events (`/api/client/delta`, streaming), as the client specification's files 19-20 use. */
export type DeltaEvent =
  | { eventId: number; type: 'hydration'; features: FeatureDefinition[]; segments?: SegmentDefinition[] }
  | { eventId: number; type: 'feature-updated'; feature: FeatureDefinition }
  | { eventId: number; type: 'feature-removed'; featureName: string; project?: string }
  | { eventId: number; type: 'segment-updated'; segment: SegmentDefinition }
  | { eventId: number; type: 'segment-removed'; segmentId: number };

/** Applies delta events in order, as unleash-client's repository does; unknown event types are skipped. */
export function applyDeltaEvents(events: readonly DeltaEvent[], base?: ClientFeatures): ClientFeatures {
  let features = new Map((base?.features ?? []).map((f) => [f.name, f]));
  let segments = new Map((base?.segments ?? []).map((s) => [s.id, s]));
  for (const event of events) {
    switch (event.type) {
      case 'hydration':
        features = new Map(event.features.map((f) => [f.name, f]));
        segments = new Map((event.segments ?? []).map((s) => [s.id, s]));
        break;
      case 'feature-updated':
        features.set(event.feature.name, event.feature);
        break;
      case 'feature-removed':
        features.delete(event.featureName);
        break;
      case 'segment-updated':
        segments.set(event.segment.id, event.segment);
        break;
      case 'segment-removed':
        segments.delete(event.segmentId);
        break;
    }
  }
  return { version: base?.version ?? 2, features: [...features.values()], segments: [...segments.values()] };
}
