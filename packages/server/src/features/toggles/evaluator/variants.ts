import { contextValue } from './context-value.js';
import { normalizedVariantValue } from './hashing.js';
import type { ToggleContext, VariantDefinition, VariantResult } from './toggle-types.js';

/** A chosen variant: `split` when a hash picked it among several weighted variants, `override` when an override did. */
export type VariantChoice = {
  readonly result: VariantResult;
  readonly split: boolean;
  readonly override: boolean;
};

export type VariantSelector = (context: ToggleContext) => VariantChoice | null;

const DEFAULT_STICKINESS_FIELDS = ['userId', 'sessionId', 'remoteAddress'] as const;

export function disabledVariant(featureEnabled: boolean): VariantResult {
  return featureEnabled ? DISABLED_FEATURE_ON : DISABLED_FEATURE_OFF;
}

const DISABLED_FEATURE_ON: VariantResult = Object.freeze({
  name: 'disabled',
  enabled: false,
  feature_enabled: true,
});
const DISABLED_FEATURE_OFF: VariantResult = Object.freeze({
  name: 'disabled',
  enabled: false,
  feature_enabled: false,
});

function variantResult(definition: VariantDefinition): VariantResult {
  const result: VariantResult =
    definition.payload === undefined
      ? { name: definition.name, enabled: true, feature_enabled: true }
      : { name: definition.name, payload: definition.payload, enabled: true, feature_enabled: true };
  return Object.freeze(result);
}

function stickinessSeed(stickiness: string, context: ToggleContext, random: () => number): string {
  if (stickiness !== 'default') {
    return contextValue(context, stickiness) || String(Math.round(random() * 100000));
  }
  for (const field of DEFAULT_STICKINESS_FIELDS) {
    const value = context[field];
    if (typeof value === 'string' && value !== '') return value;
  }
  return String(Math.round(random() * 100000));
}

type Override = { contextName: string; values: ReadonlySet<string>; choice: VariantChoice };

/**
 * unleash-client's `selectVariantDefinition`, compiled: undefined when it could never pick a variant
 * (no variants, or weights that add up to zero), so callers fall back as the SDK does.
 */
export function compileVariants(
  definitions: VariantDefinition[] | null | undefined,
  groupId: unknown,
  stickiness: unknown,
  random: () => number,
): VariantSelector | undefined {
  if (!Array.isArray(definitions) || definitions.length === 0) return undefined;
  const weights = definitions.map((d) => Number(d.weight));
  const totalWeight = weights.reduce((sum, w) => sum + w, 0);
  if (!(totalWeight > 0)) return undefined;

  const split = weights.filter((w) => w !== 0).length > 1;
  const picks = definitions.map((d, i) => ({
    weight: weights[i] ?? 0,
    choice: Object.freeze({ result: variantResult(d), split, override: false }),
  }));
  const overrides: Override[] = [];
  for (const definition of definitions) {
    if (!definition.overrides) continue;
    const choice = Object.freeze({ result: variantResult(definition), split: false, override: true });
    for (const o of definition.overrides) {
      overrides.push({ contextName: o.contextName, values: new Set(o.values ?? []), choice });
    }
  }
  const stickinessField = stickiness === undefined ? 'default' : String(stickiness);

  return (context) => {
    for (const o of overrides) {
      const value = contextValue(context, o.contextName);
      if (value !== undefined && o.values.has(value)) return o.choice;
    }
    const target = normalizedVariantValue(
      stickinessSeed(stickinessField, context, random),
      groupId,
      totalWeight,
    );
    let counter = 0;
    for (const pick of picks) {
      if (pick.weight === 0) continue;
      counter += pick.weight;
      if (counter >= target) return pick.choice;
    }
    return null;
  };
}
