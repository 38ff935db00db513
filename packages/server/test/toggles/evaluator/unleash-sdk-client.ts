import { createRequire } from 'node:module';
import type { ClientFeatures, ToggleContext } from '../../../src/features/toggles/evaluator/toggle-types.js';

export type SdkVariant = { name: string; enabled: boolean; payload?: unknown; feature_enabled?: boolean };

export type SdkClient = {
  isEnabled(name: string, context: ToggleContext, fallback: () => boolean): boolean;
  getVariant(name: string, context: ToggleContext): SdkVariant & { featureEnabled?: boolean };
  on(event: string, listener: (...args: unknown[]) => void): void;
};

type SdkClientClass = new (repository: unknown, strategies: unknown[]) => SdkClient;

const require = createRequire(import.meta.url);

/**
 * unleash-client's own evaluation (its internal `UnleashClient` over an in-memory repository, the
 * class its `Unleash#isEnabled` delegates to), with its default strategies and no network.
 */
export function createSdkClient(state: ClientFeatures): SdkClient {
  const Client = (require('unleash-client/lib/client.js') as { default: SdkClientClass }).default;
  const { defaultStrategies } = require('unleash-client/lib/strategy/index.js') as {
    defaultStrategies: unknown[];
  };
  const features = new Map(state.features.map((f) => [f.name, f]));
  const segments = new Map((state.segments ?? []).map((s) => [s.id, s]));
  const repository = {
    getToggle: (name: string) => features.get(name),
    getSegment: (id: number) => segments.get(id),
  };
  const client = new Client(repository, defaultStrategies);
  client.on('error', () => {});
  client.on('warn', () => {});
  return client;
}
