import type { ClientFeature } from '../client-api/client-features.js';
import type { FeaturesEntry } from '../client-api/client-features-cache.js';
import {
  type ToggleContext,
  ToggleEvaluator,
  type VariantDefinition,
  type VariantPayload,
} from '../evaluator/index.js';
import { type ParsedPayload, parsePayload } from './ofrep-payload.js';
import type { FlagMetadata, OfrepFailure, OfrepResult } from './ofrep-types.js';

type FlagInfo = {
  type: string;
  /** Variants on the toggle or on any strategy: the value is the variant's payload, not a boolean. */
  hasVariants: boolean;
  /** `random` stickiness or `gradualRolloutRandom`: chance is what the owner asked for. */
  randomByDesign: boolean;
};

function infoOf(f: ClientFeature): FlagInfo {
  const variantLists: VariantDefinition[][] = [f.variants, ...f.strategies.map((s) => s.variants ?? [])];
  return {
    type: f.type,
    hasVariants: variantLists.some((l) => l.length > 0),
    randomByDesign:
      f.strategies.some((s) => s.name === 'gradualRolloutRandom' || s.parameters.stickiness === 'random') ||
      variantLists.some((l) => l.some((v) => v.stickiness === 'random')),
  };
}

/**
 * One environment at one revision, compiled for OFREP: built once per client-features cache entry
 * and shared by every request until the revision changes.
 */
export class OfrepFlags {
  readonly revision: number;
  readonly #evaluator: ToggleEvaluator;
  readonly #flags = new Map<string, FlagInfo>();
  readonly #payloads = new Map<VariantPayload, ParsedPayload>();
  // Set by the evaluator's source of chance; evaluation is synchronous, so one flag per instance is enough.
  #randomUsed = false;

  constructor(entry: Pick<FeaturesEntry, 'features' | 'segments' | 'revision'>) {
    this.revision = entry.revision;
    this.#evaluator = new ToggleEvaluator(
      { version: 2, features: entry.features, segments: entry.segments },
      {
        random: () => {
          this.#randomUsed = true;
          return Math.random();
        },
      },
    );
    for (const f of entry.features) {
      this.#flags.set(f.name, infoOf(f));
      for (const v of [f.variants, ...f.strategies.map((s) => s.variants ?? [])].flat()) {
        if (v.payload) this.#payloads.set(v.payload, parsePayload(v.payload));
      }
    }
  }

  get keys(): IterableIterator<string> {
    return this.#flags.keys();
  }

  evaluate(key: string, context: ToggleContext): OfrepResult {
    const info = this.#flags.get(key);
    if (!info) return failure(key, 'FLAG_NOT_FOUND', `no toggle named ${JSON.stringify(key)}`);
    this.#randomUsed = false;
    const e = this.#evaluator.evaluate(key, context);
    // Unleash falls back to chance when the stickiness field is missing; remote callers want a stable answer.
    if (this.#randomUsed && !info.randomByDesign && (e.reason === 'SPLIT' || !e.enabled)) {
      return failure(
        key,
        'TARGETING_KEY_MISSING',
        'this toggle rolls out to a share of users: send a `targetingKey` (or the stickiness field) in the context',
      );
    }
    const metadata: FlagMetadata = e.matchedStrategy
      ? { type: info.type, revision: this.revision, strategy: e.matchedStrategy.name }
      : { type: info.type, revision: this.revision };
    if (!info.hasVariants) {
      return { key, value: e.enabled, reason: e.reason, variant: e.enabled ? 'on' : 'off', metadata };
    }
    const v = e.variant;
    if (!v.enabled) return { key, reason: e.enabled ? 'DEFAULT' : e.reason, metadata };
    if (!v.payload) return { key, value: v.name, reason: e.reason, variant: v.name, metadata };
    const parsed = this.#payloads.get(v.payload) ?? parsePayload(v.payload);
    if (!parsed.ok) return failure(key, 'PARSE_ERROR', `variant ${JSON.stringify(v.name)}: ${parsed.error}`);
    return { key, value: parsed.value, reason: e.reason, variant: v.name, metadata };
  }
}

function failure(key: string, errorCode: OfrepFailure['errorCode'], errorDetails: string): OfrepFailure {
  return { key, errorCode, errorDetails };
}
