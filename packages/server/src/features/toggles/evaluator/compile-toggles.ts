import { hostname as osHostname } from 'node:os';
import { compileSegments } from './segments.js';
import { type CompiledStrategy, compileStrategy, type StrategyEnvironment } from './strategies.js';
import type { ClientFeatures, EvaluatorOptions, FeatureDefinition } from './toggle-types.js';
import { compileVariants, type VariantSelector } from './variants.js';

export type CompiledDependency = {
  parent: CompiledFeature | undefined;
  enabled: boolean;
  variants: ReadonlySet<string> | undefined;
};

export type CompiledFeature = {
  name: string;
  /** `enabled` in the environment, with well-formed strategies. */
  enabled: boolean;
  /** No strategies at all: on for everyone. Unknown strategies still count, as in the SDK. */
  noStrategies: boolean;
  strategies: CompiledStrategy[];
  variants: VariantSelector | undefined;
  dependencies: CompiledDependency[];
  impressionData: boolean;
  definition: FeatureDefinition;
};

export type CompiledToggles = { features: ReadonlyMap<string, CompiledFeature> };

function defaultHostname(): string {
  return process.env.HOSTNAME || osHostname() || 'undefined';
}

/** Parses and indexes the definitions once, so that each evaluation only runs closures. */
export function compileToggles(definitions: ClientFeatures, options: EvaluatorOptions = {}): CompiledToggles {
  const env: StrategyEnvironment = {
    hostname: (options.hostname ?? defaultHostname()).toLowerCase(),
    random: options.random ?? Math.random,
  };
  const segments = compileSegments(definitions.segments);
  const features = new Map<string, CompiledFeature>();
  for (const definition of definitions.features ?? []) {
    const wellFormed = Array.isArray(definition.strategies);
    const strategies = wellFormed ? definition.strategies : [];
    features.set(definition.name, {
      name: definition.name,
      enabled: !!definition.enabled && wellFormed,
      noStrategies: strategies.length === 0,
      strategies: strategies
        .map((s, i) => compileStrategy(s, i, segments, env))
        .filter((s): s is CompiledStrategy => s !== undefined),
      variants: compileVariants(
        definition.variants,
        definition.name,
        definition.variants?.[0]?.stickiness ?? undefined,
        env.random,
      ),
      dependencies: [],
      impressionData: !!definition.impressionData,
      definition,
    });
  }
  for (const feature of features.values()) {
    feature.dependencies = (feature.definition.dependencies ?? []).map((d) => ({
      parent: features.get(d.feature),
      enabled: d.enabled !== false,
      variants: d.variants?.length ? new Set(d.variants) : undefined,
    }));
  }
  return { features };
}
