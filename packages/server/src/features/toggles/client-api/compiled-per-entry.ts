import type { ClientFeaturesCache, FeaturesEntry } from './client-features-cache.js';

/**
 * Something compiled from a client-features cache entry (OFREP flags, frontend toggles). That cache
 * replaces an entry only when the environment's revision changes, so this compiles once per
 * (app, environment, revision), and what it compiled goes when the entry does.
 */
export class CompiledPerEntry<T> {
  readonly #compiled = new WeakMap<FeaturesEntry, T>();

  constructor(
    private readonly features: ClientFeaturesCache,
    private readonly compile: (entry: FeaturesEntry) => T,
  ) {}

  /** The current compiled value without waiting, when the features cache has the entry. */
  fresh(appId: string, env: string): T | undefined {
    const entry = this.features.fresh(appId, env, 'segments');
    return entry && this.#of(entry);
  }

  async get(appId: string, env: string): Promise<T> {
    return this.fresh(appId, env) ?? this.#of(await this.features.get(appId, env, 'segments'));
  }

  #of(entry: FeaturesEntry): T {
    let value = this.#compiled.get(entry);
    if (value === undefined) {
      value = this.compile(entry);
      this.#compiled.set(entry, value);
    }
    return value;
  }
}
