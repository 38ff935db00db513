import type { ClientFeaturesCache, FeaturesEntry } from '../client-api/client-features-cache.js';
import { OfrepFlags } from './ofrep-flags.js';

/**
 * Compiled flags per client-features cache entry. That cache replaces an entry only when the
 * environment's revision changes, so this compiles once per (app, environment, revision), and an
 * entry's flags go when the entry does.
 */
export class OfrepFlagsCache {
  readonly #compiled = new WeakMap<FeaturesEntry, OfrepFlags>();

  constructor(private readonly features: ClientFeaturesCache) {}

  /** Current flags without waiting, when the features cache has them. */
  fresh(appId: string, env: string): OfrepFlags | undefined {
    const entry = this.features.fresh(appId, env, 'segments');
    return entry && this.#of(entry);
  }

  async get(appId: string, env: string): Promise<OfrepFlags> {
    return this.fresh(appId, env) ?? this.#of(await this.features.get(appId, env, 'segments'));
  }

  #of(entry: FeaturesEntry): OfrepFlags {
    let flags = this.#compiled.get(entry);
    if (!flags) {
      flags = new OfrepFlags(entry);
      this.#compiled.set(entry, flags);
    }
    return flags;
  }
}
