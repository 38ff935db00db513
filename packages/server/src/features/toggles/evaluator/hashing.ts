import murmurhash3js from 'murmurhash3js';

const STRATEGY_SEED = 0;
const VARIANT_SEED = 86028157;

/** unleash-client's `normalizedValue`: murmur3 x86_32 of `groupId:id`, in 1..normalizer. */
export function normalizedHash(
  id: unknown,
  groupId: unknown,
  normalizer = 100,
  seed = STRATEGY_SEED,
): number {
  return (murmurhash3js.x86.hash32(`${groupId}:${id}`, seed) % normalizer) + 1;
}

export function normalizedStrategyValue(id: unknown, groupId: unknown): number {
  return normalizedHash(id, groupId, 100, STRATEGY_SEED);
}

export function normalizedVariantValue(id: unknown, groupId: unknown, normalizer: number): number {
  return normalizedHash(id, groupId, normalizer, VARIANT_SEED);
}
