import { describe, expect, it } from 'vitest';
import { toToggleContext } from '../../../src/features/toggles/ofrep/ofrep-context.js';
import { OfrepFlags } from '../../../src/features/toggles/ofrep/ofrep-flags.js';
import { parsePayload } from '../../../src/features/toggles/ofrep/ofrep-payload.js';

describe('OFREP context mapping', () => {
  it('maps targetingKey to userId, known fields to the top level, the rest to string properties', () => {
    const ctx = toToggleContext(
      {
        context: {
          targetingKey: 'u-1',
          sessionId: 's-1',
          remoteAddress: '10.0.0.1',
          currentTime: '2030-01-01T00:00:00Z',
          plan: 'pro',
          age: 42,
          beta: true,
          tags: ['a', 'b'],
          gone: null,
          properties: { region: 'eu', plan: 'free' },
        },
      },
      'production',
    );
    expect(ctx).toEqual({
      environment: 'production',
      userId: 'u-1',
      sessionId: 's-1',
      remoteAddress: '10.0.0.1',
      currentTime: '2030-01-01T00:00:00Z',
      properties: {
        targetingKey: 'u-1',
        plan: 'pro',
        age: '42',
        beta: 'true',
        tags: '["a","b"]',
        region: 'eu',
      },
    });
  });

  it('keeps an explicit userId and environment over targetingKey and the token', () => {
    expect(
      toToggleContext({ context: { targetingKey: 't', userId: 'u', environment: 'x' } }, 'prod'),
    ).toMatchObject({ userId: 'u', environment: 'x' });
    expect(toToggleContext({}, 'prod')).toEqual({ environment: 'prod', properties: {} });
  });

  it('rejects a body that is not an object and a context that is not an object', () => {
    expect(toToggleContext([], 'p')).toMatchObject({ errorCode: 'PARSE_ERROR' });
    expect(toToggleContext(null, 'p')).toMatchObject({ errorCode: 'PARSE_ERROR' });
    expect(toToggleContext({ context: 'u-1' }, 'p')).toMatchObject({ errorCode: 'INVALID_CONTEXT' });
    expect(toToggleContext({ context: [1] }, 'p')).toMatchObject({ errorCode: 'INVALID_CONTEXT' });
  });
});

describe('OFREP values', () => {
  it('types payloads by their kind', () => {
    expect(parsePayload({ type: 'json', value: '{"a":[1]}' })).toEqual({ ok: true, value: { a: [1] } });
    expect(parsePayload({ type: 'number', value: '2.5' })).toEqual({ ok: true, value: 2.5 });
    expect(parsePayload({ type: 'csv', value: 'a,b' })).toEqual({ ok: true, value: 'a,b' });
    expect(parsePayload({ type: 'string', value: '7' })).toEqual({ ok: true, value: '7' });
    expect(parsePayload({ type: 'json', value: '{' })).toMatchObject({ ok: false });
    expect(parsePayload({ type: 'number', value: '' })).toMatchObject({ ok: false });
  });

  const feature = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    type: 'release',
    description: '',
    enabled: true,
    stale: false as const,
    impressionData: false,
    project: 'shop',
    strategies: [],
    variants: [],
    ...extra,
  });
  const variant = (name: string, weight: number, payload?: { type: string; value: string }) => ({
    name,
    weight,
    weightType: 'variable' as const,
    stickiness: 'default',
    ...(payload && { payload: payload as { type: 'json'; value: string } }),
  });
  const rollout = (percent: number, stickiness = 'default') => ({
    name: 'flexibleRollout',
    constraints: [],
    parameters: { rollout: String(percent), stickiness, groupId: 'g' },
  });
  const flags = new OfrepFlags({
    revision: 3,
    segments: [],
    features: [
      feature('plain'),
      feature('off', { enabled: false }),
      feature('half', { strategies: [rollout(50)] }),
      feature('coin', { strategies: [rollout(50, 'random')] }),
      feature('colour', { variants: [variant('red', 1), variant('blue', 1)] }),
      feature('one', { variants: [variant('only', 1, { type: 'number', value: '3' })] }),
      feature('broken', { variants: [variant('bad', 1, { type: 'json', value: '{' })] }),
      feature('dark', { enabled: false, variants: [variant('x', 1)] }),
    ],
  });
  const ctx = (c: Record<string, unknown>) => toToggleContext({ context: c }, 'production') as never;

  it('answers every toggle as a boolean, and variant names and payloads under their key forms', () => {
    expect(flags.evaluate('plain', ctx({}))).toEqual({
      key: 'plain',
      value: true,
      reason: 'STATIC',
      variant: 'on',
      metadata: { type: 'release', revision: 3 },
    });
    expect(flags.evaluate('off', ctx({}))).toMatchObject({
      value: false,
      variant: 'off',
      reason: 'DISABLED',
    });
    expect(flags.evaluate('one', ctx({}))).toEqual({
      key: 'one',
      value: true,
      variant: 'only',
      reason: 'STATIC',
      metadata: { type: 'release', revision: 3, payloadType: 'number', payload: '3' },
    });
    expect(flags.evaluate('one:payload', ctx({}))).toMatchObject({
      value: 3,
      variant: 'only',
      reason: 'STATIC',
    });
    expect(flags.evaluate('one:variant', ctx({}))).toMatchObject({
      value: 'only',
      variant: 'only',
      metadata: { enabled: true },
    });
    expect(flags.evaluate('colour', ctx({ targetingKey: 'u' }))).toMatchObject({
      value: true,
      variant: expect.stringMatching(/^(red|blue)$/),
      reason: 'SPLIT',
    });
    expect(flags.evaluate('colour:variant', ctx({ targetingKey: 'u' }))).toMatchObject({
      value: expect.stringMatching(/^(red|blue)$/),
      reason: 'SPLIT',
    });
    // A variant without a payload: its payload form has no value, so the caller's default applies.
    expect(flags.evaluate('colour:payload', ctx({ targetingKey: 'u' }))).not.toHaveProperty('value');
    expect(flags.evaluate('dark', ctx({}))).toMatchObject({
      value: false,
      variant: 'off',
      reason: 'DISABLED',
    });
    const dark = flags.evaluate('dark:variant', ctx({}));
    expect(dark).toEqual({
      key: 'dark:variant',
      reason: 'DISABLED',
      metadata: { type: 'release', revision: 3, enabled: false },
    });
    expect(flags.evaluate('plain:variant', ctx({}))).toEqual({
      key: 'plain:variant',
      reason: 'DEFAULT',
      metadata: { type: 'release', revision: 3, enabled: true },
    });
    expect(flags.evaluate('broken', ctx({}))).toMatchObject({ value: true, variant: 'bad' });
    expect(flags.evaluate('broken:payload', ctx({}))).toMatchObject({ errorCode: 'PARSE_ERROR' });
    expect(flags.evaluate('nope', ctx({}))).toMatchObject({ key: 'nope', errorCode: 'FLAG_NOT_FOUND' });
    expect(flags.evaluate('nope:variant', ctx({}))).toMatchObject({ errorCode: 'FLAG_NOT_FOUND' });
    expect([...flags.keys()]).toContain('colour:payload');
    expect([...flags.keys()]).not.toContain('plain:variant');
  });

  it('asks for a targeting key when a split would otherwise be left to chance', () => {
    expect(flags.evaluate('half', ctx({}))).toMatchObject({ errorCode: 'TARGETING_KEY_MISSING' });
    expect(flags.evaluate('colour:variant', ctx({}))).toMatchObject({ errorCode: 'TARGETING_KEY_MISSING' });
    // Chance picks only the variant there, not the on/off state.
    expect(flags.evaluate('colour', ctx({}))).toMatchObject({ value: true });
    expect(flags.evaluate('half', ctx({ targetingKey: 'u' }))).not.toHaveProperty('errorCode');
    expect(flags.evaluate('half', ctx({ sessionId: 's' }))).not.toHaveProperty('errorCode');
    // Chance on purpose, and a single variant, need no key.
    expect(flags.evaluate('coin', ctx({}))).not.toHaveProperty('errorCode');
    expect(flags.evaluate('one', ctx({}))).not.toHaveProperty('errorCode');
  });
});
