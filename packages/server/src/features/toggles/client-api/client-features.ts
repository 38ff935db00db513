import type {
  Segment,
  Toggle,
  ToggleConstraint,
  ToggleDependency,
  ToggleStrategy,
  ToggleVariant,
} from '@gantry/contracts';

/** Whether segments travel apart (`Unleash-Client-Spec` ≥ 4.2.0) or inlined into strategy constraints. */
export type FeaturesForm = 'segments' | 'inline';

export interface ClientStrategy {
  name: string;
  constraints: ToggleConstraint[];
  parameters: Record<string, string>;
  segments?: number[];
  variants?: ToggleVariant[];
}

export interface ClientFeature {
  name: string;
  type: string;
  description: string;
  enabled: boolean;
  stale: false;
  impressionData: boolean;
  project: string;
  strategies: ClientStrategy[];
  variants: ToggleVariant[];
  dependencies?: ToggleDependency[];
}

export interface ClientSegment {
  id: number;
  name: string;
  constraints: ToggleConstraint[];
}

/** Never true: stands in for a segment that no longer exists, which the SDKs evaluate as false. */
const MISSING_SEGMENT: ToggleConstraint = {
  contextName: 'gantry-missing-segment',
  operator: 'IN',
  values: [],
};

/**
 * Our toggles in one environment as `GET /api/client/features` serves them: a toggle without a row
 * for the environment is off, disabled strategies are left out.
 */
export function toClientFeatures(
  toggles: Toggle[],
  segments: Segment[],
  env: string,
  form: FeaturesForm,
): { features: ClientFeature[]; segments: ClientSegment[] } {
  const byId = new Map(segments.map((s) => [s.id, s]));
  const used = new Set<number>();
  const features = toggles.map((t): ClientFeature => {
    const e = t.environments.find((x) => x.env === env);
    const strategies = (e?.strategies ?? [])
      .filter((s) => !s.disabled)
      .map((s) => toClientStrategy(s, form, byId, used));
    return {
      name: t.name,
      type: t.type,
      description: t.description,
      enabled: e?.enabled ?? false,
      stale: false,
      impressionData: t.impressionData,
      project: t.app,
      strategies,
      variants: e?.variants ?? [],
      ...(t.dependencies.length > 0 && { dependencies: t.dependencies }),
    };
  });
  const sent = form === 'segments' ? [...used].flatMap((id) => byId.get(id) ?? []) : [];
  return {
    features,
    segments: sent.map((s) => ({ id: s.id, name: s.name, constraints: s.constraints })),
  };
}

function toClientStrategy(
  s: ToggleStrategy,
  form: FeaturesForm,
  byId: Map<number, Segment>,
  used: Set<number>,
): ClientStrategy {
  const ids = s.segments ?? [];
  const out: ClientStrategy = {
    name: s.name,
    constraints: s.constraints ?? [],
    parameters: s.parameters ?? {},
  };
  if (ids.length > 0) {
    if (form === 'segments') {
      out.segments = ids;
      for (const id of ids) used.add(id);
    } else {
      out.constraints = [
        ...out.constraints,
        ...ids.flatMap((id) => byId.get(id)?.constraints ?? [MISSING_SEGMENT]),
      ];
    }
  }
  if (s.variants) out.variants = s.variants;
  return out;
}

/** The features and segments a `namePrefix` query selects. */
export function withNamePrefix(
  state: { features: ClientFeature[]; segments: ClientSegment[] },
  prefix: string,
): { features: ClientFeature[]; segments: ClientSegment[] } {
  const features = state.features.filter((f) => f.name.startsWith(prefix));
  const used = new Set(features.flatMap((f) => f.strategies.flatMap((s) => s.segments ?? [])));
  return { features, segments: state.segments.filter((s) => used.has(s.id)) };
}
