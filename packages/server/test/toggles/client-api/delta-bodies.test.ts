import { describe, expect, it } from 'vitest';
import type { ClientFeature } from '../../../src/features/toggles/client-api/client-features.js';
import { deltaBody, hydrationBody } from '../../../src/features/toggles/client-api/delta-events.js';

const feature = (name: string, enabled: boolean): ClientFeature => ({
  name,
  type: 'release',
  description: '',
  enabled,
  stale: false,
  impressionData: false,
  project: 'default',
  strategies: [
    { name: 'default', constraints: [], parameters: {} },
  ] as unknown as ClientFeature['strategies'],
  variants: [],
});

describe('streaming bodies (built once per change, shared by every stream of the environment)', () => {
  const r1 = { revision: 1, features: [feature('a', false), feature('b', true)], segments: [] };
  const r2 = { revision: 2, features: [feature('a', true), feature('b', true)], segments: [] };
  const r3 = { revision: 3, features: [feature('a', true)], segments: [] };

  it('carries only what changed, and is the same string for every stream that holds the same state', () => {
    const body = deltaBody(r1, r2);
    expect(JSON.parse(body)).toEqual({
      events: [{ type: 'feature-updated', eventId: 2, feature: feature('a', true) }],
    });
    expect(deltaBody(r1, r2)).toBe(body);
    expect(JSON.parse(deltaBody(r2, r3)).events).toEqual([
      { type: 'feature-removed', eventId: 3, featureName: 'b', project: 'default' },
    ]);
    // From another base the delta differs: the memo is keyed by both states.
    expect(JSON.parse(deltaBody(r1, r3)).events.map((e: { type: string }) => e.type)).toEqual([
      'feature-updated',
      'feature-removed',
    ]);
  });

  it('is empty when nothing an SDK sees changed (a new revision with the same data)', () => {
    const same = { revision: 4, features: r3.features.map((f) => ({ ...f })), segments: [] };
    expect(deltaBody(r3, same)).toBe('');
  });

  it('hydrates with the whole state', () => {
    expect(JSON.parse(hydrationBody(r2))).toEqual({
      events: [{ type: 'hydration', eventId: 2, features: r2.features, segments: [] }],
    });
    expect(hydrationBody(r2)).toBe(hydrationBody(r2));
  });
});
