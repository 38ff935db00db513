import type { ClientFeaturesCache } from '../client-api/client-features-cache.js';
import { CompiledPerEntry } from '../client-api/compiled-per-entry.js';
import { OfrepFlags } from './ofrep-flags.js';

/** OFREP flags compiled once per (app, environment, revision). */
export class OfrepFlagsCache extends CompiledPerEntry<OfrepFlags> {
  constructor(features: ClientFeaturesCache) {
    super(features, (entry) => new OfrepFlags(entry));
  }
}
