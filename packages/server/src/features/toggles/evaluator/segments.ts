import { type ContextPredicate, compileConstraint, never } from './constraints.js';
import type { SegmentDefinition } from './toggle-types.js';

export type CompiledSegments = ReadonlyMap<number, ContextPredicate[]>;

export function compileSegments(segments: SegmentDefinition[] | null | undefined): CompiledSegments {
  const compiled = new Map<number, ContextPredicate[]>();
  for (const segment of segments ?? []) {
    compiled.set(segment.id, (segment.constraints ?? []).map(compileConstraint));
  }
  return compiled;
}

/** A strategy's segment constraints, ANDed after its own; a segment that is not defined is false. */
export function segmentPredicates(
  ids: number[] | null | undefined,
  segments: CompiledSegments,
): ContextPredicate[] {
  const predicates: ContextPredicate[] = [];
  for (const id of ids ?? []) {
    const constraints = segments.get(id);
    if (constraints) predicates.push(...constraints);
    else predicates.push(never);
  }
  return predicates;
}
