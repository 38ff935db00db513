import { type CompiledFeature, compileToggles } from './compile-toggles.js';
import type { CompiledStrategy } from './strategies.js';
import type {
  ClientFeatures,
  EvaluationReason,
  EvaluatorOptions,
  ToggleContext,
  ToggleEvaluation,
  VariantResult,
} from './toggle-types.js';
import { disabledVariant, type VariantChoice } from './variants.js';

/** Why a toggle is on (`static`, or the strategy that matched) or off. */
type Outcome = CompiledStrategy | 'static' | 'disabled' | 'unmet' | 'no-match';

const NOT_FOUND: ToggleEvaluation = Object.freeze({
  enabled: false,
  variant: disabledVariant(false),
  reason: 'DEFAULT',
  flagFound: false,
});

function isOn(outcome: Outcome): boolean {
  return outcome === 'static' || typeof outcome === 'object';
}

/**
 * Evaluates toggles in Unleash's client-API shape with unleash-client's semantics.
 * Build one per revision of the definitions: construction compiles them, evaluation is cheap.
 */
export class ToggleEvaluator {
  readonly #features: ReadonlyMap<string, CompiledFeature>;

  constructor(definitions: ClientFeatures, options: EvaluatorOptions = {}) {
    this.#features = compileToggles(definitions, options).features;
  }

  get featureNames(): string[] {
    return [...this.#features.keys()];
  }

  has(name: string): boolean {
    return this.#features.has(name);
  }

  isEnabled(name: string, context: ToggleContext = {}): boolean {
    const feature = this.#features.get(name);
    return feature !== undefined && isOn(this.#outcome(feature, context));
  }

  getVariant(name: string, context: ToggleContext = {}): VariantResult {
    const feature = this.#features.get(name);
    return feature ? this.#variant(feature, context) : disabledVariant(false);
  }

  evaluate(name: string, context: ToggleContext = {}): ToggleEvaluation {
    const feature = this.#features.get(name);
    if (!feature) return NOT_FOUND;
    const outcome = this.#outcome(feature, context);
    if (!isOn(outcome)) {
      const reason: EvaluationReason = outcome === 'disabled' ? 'DISABLED' : 'DEFAULT';
      return { enabled: false, variant: disabledVariant(false), reason, flagFound: true };
    }
    const choice = this.#choice(feature, outcome, context);
    const strategy = typeof outcome === 'object' ? outcome : undefined;
    const evaluation: ToggleEvaluation = {
      enabled: true,
      variant: choice?.result ?? disabledVariant(true),
      reason: reasonFor(strategy, choice),
      flagFound: true,
    };
    if (strategy) evaluation.matchedStrategy = { index: strategy.index, name: strategy.name };
    return evaluation;
  }

  #outcome(feature: CompiledFeature, context: ToggleContext): Outcome {
    if (!feature.enabled) return 'disabled';
    if (feature.dependencies.length > 0 && !this.#dependenciesMet(feature, context)) return 'unmet';
    if (feature.noStrategies) return 'static';
    for (const strategy of feature.strategies) {
      if (strategy.matches(context)) return strategy;
    }
    return 'no-match';
  }

  // Like the SDK, a parent that has parents of its own is never satisfied, so cycles are false.
  #dependenciesMet(feature: CompiledFeature, context: ToggleContext): boolean {
    for (const { parent, enabled, variants } of feature.dependencies) {
      if (!parent || parent.dependencies.length > 0) return false;
      if (!enabled) {
        if (isOn(this.#outcome(parent, context))) return false;
      } else if (variants) {
        const variant = this.#variant(parent, context);
        if (!variant.feature_enabled || !variants.has(variant.name)) return false;
      } else if (!isOn(this.#outcome(parent, context))) {
        return false;
      }
    }
    return true;
  }

  #variant(feature: CompiledFeature, context: ToggleContext): VariantResult {
    const outcome = this.#outcome(feature, context);
    if (!isOn(outcome)) return disabledVariant(false);
    return this.#choice(feature, outcome, context)?.result ?? disabledVariant(true);
  }

  // Strategy variants of the matching strategy win; otherwise the toggle's own variants.
  #choice(feature: CompiledFeature, outcome: Outcome, context: ToggleContext): VariantChoice | null {
    if (typeof outcome === 'object' && outcome.variants) {
      const choice = outcome.variants(context);
      if (choice) return choice;
    }
    return feature.variants ? feature.variants(context) : null;
  }
}

function reasonFor(strategy: CompiledStrategy | undefined, choice: VariantChoice | null): EvaluationReason {
  if (strategy?.partial || choice?.split) return 'SPLIT';
  if ((strategy && !strategy.unconditional) || choice?.override) return 'TARGETING_MATCH';
  return 'STATIC';
}
