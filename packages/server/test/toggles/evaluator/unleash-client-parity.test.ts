import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ToggleEvaluator } from '../../../src/features/toggles/evaluator/toggle-evaluator.js';
import type { ClientFeatures, ToggleContext } from '../../../src/features/toggles/evaluator/toggle-types.js';
import { loadClientSpecs } from './client-spec-cases.js';
import { parityToggles } from './parity-toggles.js';
import { createSdkClient } from './unleash-sdk-client.js';

// A constant "random" makes random stickiness comparable whatever the order of the calls.
const RANDOM = 0.4242;

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pools: Record<string, (string | undefined)[]> = {
  userId: [undefined, '', '0', '1', '2', '174', '499', 'abc', 'AbC', 'user-9'],
  sessionId: [undefined, '', 's1', '42', 'session-7'],
  remoteAddress: [undefined, '', '127.0.0.1', '10.1.2.3', '192.168.4.4', '::1', '2001:db8::42', 'garbage'],
  environment: [undefined, 'dev', 'prod', ' dev '],
  appName: [undefined, 'web', 'abc'],
  currentTime: [undefined, '2022-01-22T11:30:00.000Z', '2024-07-01T00:00:00Z', 'not a date'],
  tenant: [undefined, 'acme', 'globex', ''],
  email: [undefined, 'me@example.COM', 'me@other.org'],
  tier: [undefined, '1', '2', '12', 'x', ''],
  version: [undefined, '1.2.0', '1.2.0-rc.2', '2.0.0', '2.0.0+build', 'v1.5.0', '3.0.0'],
  customField: [undefined, '388', '503', 'any_value'],
};

function generatedContexts(count: number): ToggleContext[] {
  const next = prng(20240601);
  const pick = (values: (string | undefined)[]) => values[Math.floor(next() * values.length)];
  const contexts: ToggleContext[] = [];
  for (let i = 0; i < count; i++) {
    const context: ToggleContext = { properties: {} };
    for (const [field, values] of Object.entries(pools)) {
      const value = pick(values);
      if (value === undefined) continue;
      if (next() < 0.5 && !['userId', 'sessionId', 'remoteAddress'].includes(field)) {
        context.properties = { ...context.properties, [field]: value };
      } else {
        context[field] = value;
      }
    }
    contexts.push(context);
  }
  return contexts;
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

const specs = loadClientSpecs();
const contexts = [
  ...specs.flatMap((s) => [...s.tests, ...s.variantTests].map((c) => c.context)),
  ...generatedContexts(300),
];
const states: [string, ClientFeatures][] = [
  ...specs.map((s): [string, ClientFeatures] => [s.file, s.state]),
  ['parity-toggles', parityToggles],
];

describe('parity with unleash-client on every toggle and many contexts', () => {
  beforeAll(() => {
    vi.spyOn(Math, 'random').mockReturnValue(RANDOM);
  });
  afterAll(() => {
    vi.restoreAllMocks();
  });

  for (const [label, state] of states) {
    it(label, () => {
      const sdk = createSdkClient(state);
      const ours = new ToggleEvaluator(state, { random: () => RANDOM, hostname: 'this-host' });
      const names = [...state.features.map((f) => f.name), 'no-such-toggle'];
      const mismatches: unknown[] = [];
      for (const name of names) {
        for (const context of contexts) {
          const expectedEnabled = sdk.isEnabled(name, context, () => false);
          const { featureEnabled: _, ...expectedVariant } = sdk.getVariant(name, context);
          if (expectedVariant.payload === undefined) delete expectedVariant.payload;
          const enabled = ours.isEnabled(name, context);
          const variant = ours.getVariant(name, context);
          const evaluation = ours.evaluate(name, context);
          if (
            enabled !== expectedEnabled ||
            evaluation.enabled !== expectedEnabled ||
            canonical(variant) !== canonical(expectedVariant) ||
            canonical(evaluation.variant) !== canonical(expectedVariant)
          ) {
            mismatches.push({ name, context, expectedEnabled, enabled, expectedVariant, variant });
          }
        }
      }
      expect(mismatches.slice(0, 5)).toEqual([]);
    });
  }
});
