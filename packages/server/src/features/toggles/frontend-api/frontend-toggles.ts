import type { ClientFeaturesCache, FeaturesEntry } from '../client-api/client-features-cache.js';
import { CompiledPerEntry } from '../client-api/compiled-per-entry.js';
import { type ToggleContext, ToggleEvaluator, type VariantPayload } from '../evaluator/index.js';

/** One toggle as the Frontend API answers it: only enabled toggles are listed. */
export type FrontendToggle = {
  name: string;
  enabled: true;
  variant: { name: string; enabled: boolean; feature_enabled: true; payload?: VariantPayload };
  impressionData: boolean;
};

/** One environment at one revision, compiled once and shared by every request until the revision changes. */
export class FrontendToggles {
  readonly revision: number;
  readonly #evaluator: ToggleEvaluator;
  readonly #impressionData = new Map<string, boolean>();

  constructor(entry: Pick<FeaturesEntry, 'features' | 'segments' | 'revision'>) {
    this.revision = entry.revision;
    this.#evaluator = new ToggleEvaluator({ version: 2, features: entry.features, segments: entry.segments });
    for (const f of entry.features) this.#impressionData.set(f.name, f.impressionData);
  }

  has(name: string): boolean {
    return this.#impressionData.has(name);
  }

  /** The toggle when it is enabled for this context, else undefined. */
  evaluate(name: string, context: ToggleContext): FrontendToggle | undefined {
    const e = this.#evaluator.evaluate(name, context);
    if (!e.enabled) return undefined;
    const v = e.variant;
    return {
      name,
      enabled: true,
      variant: {
        name: v.name,
        enabled: v.enabled,
        feature_enabled: true,
        ...(v.payload && { payload: v.payload }),
      },
      impressionData: this.#impressionData.get(name) ?? false,
    };
  }

  all(context: ToggleContext): FrontendToggle[] {
    const out: FrontendToggle[] = [];
    for (const name of this.#impressionData.keys()) {
      const t = this.evaluate(name, context);
      if (t) out.push(t);
    }
    return out;
  }
}

/** Frontend toggles compiled once per (app, environment, revision). */
export class FrontendTogglesCache extends CompiledPerEntry<FrontendToggles> {
  constructor(features: ClientFeaturesCache) {
    super(features, (entry) => new FrontendToggles(entry));
  }
}
