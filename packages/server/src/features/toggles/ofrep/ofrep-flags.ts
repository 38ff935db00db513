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

/** How a key reads a toggle: its enabled state, its variant's name, or its variant's payload. */
type KeyForm = 'enabled' | 'variant' | 'payload';

export const VARIANT_SUFFIX = ':variant';
export const PAYLOAD_SUFFIX = ':payload';
const SUFFIXES: [string, KeyForm][] = [
  [VARIANT_SUFFIX, 'variant'],
  [PAYLOAD_SUFFIX, 'payload'],
];

type FlagInfo = {
  type: string;
  /** Variants on the toggle or on any strategy: it also answers under `:variant` and `:payload`. */
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

  /** Every key the bulk request answers: each toggle, and its `:variant` and `:payload` forms when it has variants. */
  *keys(): IterableIterator<string> {
    for (const [name, info] of this.#flags) {
      yield name;
      if (info.hasVariants) {
        yield `${name}${VARIANT_SUFFIX}`;
        yield `${name}${PAYLOAD_SUFFIX}`;
      }
    }
  }

  evaluate(key: string, context: ToggleContext): OfrepResult {
    const { name, form, info } = this.#resolve(key);
    if (!info) return failure(key, 'FLAG_NOT_FOUND', `no toggle named ${JSON.stringify(name)}`);
    this.#randomUsed = false;
    const e = this.#evaluator.evaluate(name, context);
    // Unleash falls back to chance when the stickiness field is missing; remote callers want a stable answer.
    if (this.#randomUsed && !info.randomByDesign && (e.reason === 'SPLIT' || !e.enabled)) {
      if (form !== 'enabled' || this.#enabledByChance(name, context)) {
        return failure(
          key,
          'TARGETING_KEY_MISSING',
          'this toggle rolls out to a share of users: send a `targetingKey` (or the stickiness field) in the context',
        );
      }
    }
    const v = e.variant;
    const metadata: FlagMetadata = { type: info.type, revision: this.revision };
    if (e.matchedStrategy) metadata.strategy = e.matchedStrategy.name;
    if (form !== 'enabled') metadata.enabled = e.enabled;
    if (v.enabled && v.payload) {
      metadata.payloadType = v.payload.type;
      metadata.payload = v.payload.value;
    }
    if (form === 'enabled') {
      const variant = info.hasVariants && v.enabled ? v.name : e.enabled ? 'on' : 'off';
      return { key, value: e.enabled, reason: e.reason, variant, metadata };
    }
    // No variant applies (off, or on without variants): the caller's code default.
    if (!v.enabled) return { key, reason: e.enabled ? 'DEFAULT' : e.reason, metadata };
    if (form === 'variant') return { key, value: v.name, reason: e.reason, variant: v.name, metadata };
    if (!v.payload) return { key, reason: e.reason, variant: v.name, metadata };
    const parsed = this.#payloads.get(v.payload) ?? parsePayload(v.payload);
    if (!parsed.ok) return failure(key, 'PARSE_ERROR', `variant ${JSON.stringify(v.name)}: ${parsed.error}`);
    return { key, value: parsed.value, reason: e.reason, variant: v.name, metadata };
  }

  /** A toggle by its key; `<toggle>:variant` and `<toggle>:payload` name its variant forms. */
  #resolve(key: string): { name: string; form: KeyForm; info: FlagInfo | undefined } {
    const info = this.#flags.get(key);
    if (info) return { name: key, form: 'enabled', info };
    for (const [suffix, form] of SUFFIXES) {
      if (key.endsWith(suffix)) {
        const name = key.slice(0, -suffix.length);
        return { name, form, info: this.#flags.get(name) };
      }
    }
    return { name: key, form: 'enabled', info: undefined };
  }

  /** Whether chance decided the on/off state itself, not only which variant. */
  #enabledByChance(name: string, context: ToggleContext): boolean {
    this.#randomUsed = false;
    this.#evaluator.isEnabled(name, context);
    return this.#randomUsed;
  }
}

function failure(key: string, errorCode: OfrepFailure['errorCode'], errorDetails: string): OfrepFailure {
  return { key, errorCode, errorDetails };
}
