import type { ClientFeature, ClientSegment } from './client-features.js';

/** Unleash's delta events, as `unleash-client` applies them (`repository/index.ts`). */
export type DeltaEvent =
  | { type: 'hydration'; eventId: number; features: ClientFeature[]; segments: ClientSegment[] }
  | { type: 'feature-updated'; eventId: number; feature: ClientFeature }
  | { type: 'feature-removed'; eventId: number; featureName: string; project: string }
  | { type: 'segment-updated'; eventId: number; segment: ClientSegment }
  | { type: 'segment-removed'; eventId: number; segmentId: number };

interface State {
  revision: number;
  features: ClientFeature[];
  segments: ClientSegment[];
}

export function hydration(s: State): DeltaEvent {
  return { type: 'hydration', eventId: s.revision, features: s.features, segments: s.segments };
}

/** What turns `from` into `to`: segments first, so updated features never name a missing one. */
export function deltaEvents(from: State, to: State): DeltaEvent[] {
  const eventId = to.revision;
  const out: DeltaEvent[] = [];
  const oldSegments = new Map(from.segments.map((s) => [s.id, JSON.stringify(s)]));
  for (const s of to.segments) {
    if (oldSegments.get(s.id) !== JSON.stringify(s))
      out.push({ type: 'segment-updated', eventId, segment: s });
  }
  const oldFeatures = new Map(from.features.map((f) => [f.name, f]));
  const kept = new Set<string>();
  for (const f of to.features) {
    kept.add(f.name);
    const old = oldFeatures.get(f.name);
    if (old !== f && JSON.stringify(old) !== JSON.stringify(f))
      out.push({ type: 'feature-updated', eventId, feature: f });
  }
  for (const f of from.features) {
    if (!kept.has(f.name))
      out.push({ type: 'feature-removed', eventId, featureName: f.name, project: f.project });
  }
  const newSegments = new Set(to.segments.map((s) => s.id));
  for (const s of from.segments) {
    if (!newSegments.has(s.id)) out.push({ type: 'segment-removed', eventId, segmentId: s.id });
  }
  return out;
}

const deltaBodies = new WeakMap<State, WeakMap<State, string>>();
const hydrationBodies = new WeakMap<State, string>();

/**
 * The `{"events":[…]}` body that takes a stream from one state to the next ('' when nothing an SDK
 * sees changed). States are the features cache's shared entries, so a change is diffed and
 * serialized once for all the streams of an environment, not once per stream.
 */
export function deltaBody(from: State, to: State): string {
  let byTo = deltaBodies.get(from);
  if (!byTo) {
    byTo = new WeakMap();
    deltaBodies.set(from, byTo);
  }
  let body = byTo.get(to);
  if (body === undefined) {
    const events = deltaEvents(from, to);
    body = events.length ? JSON.stringify({ events }) : '';
    byTo.set(to, body);
  }
  return body;
}

/** The body of a hydration event for `s`, serialized once per state. */
export function hydrationBody(s: State): string {
  let body = hydrationBodies.get(s);
  if (body === undefined) {
    body = JSON.stringify({ events: [hydration(s)] });
    hydrationBodies.set(s, body);
  }
  return body;
}
