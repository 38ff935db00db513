import { describe, expect, it } from 'vitest';
import { ToggleEvaluator } from '../../../src/features/toggles/evaluator/toggle-evaluator.js';

const variant = (name: string, weight: number, extra = {}) => ({ name, weight, ...extra });

const evaluator = new ToggleEvaluator(
  {
    version: 2,
    features: [
      { name: 'static', enabled: true, strategies: [] },
      { name: 'everyone', enabled: true, strategies: [{ name: 'default', parameters: {} }] },
      { name: 'off', enabled: false, strategies: [] },
      { name: 'targeted', enabled: true, strategies: [{ name: 'userWithId', parameters: { userIds: '7' } }] },
      {
        name: 'rollout',
        enabled: true,
        strategies: [
          { name: 'userWithId', parameters: { userIds: '7' } },
          { name: 'flexibleRollout', parameters: { rollout: '100', groupId: 'rollout' } },
          { name: 'flexibleRollout', parameters: { rollout: '50', groupId: 'rollout' } },
        ],
      },
      {
        name: 'half',
        enabled: true,
        strategies: [{ name: 'flexibleRollout', parameters: { rollout: '50', groupId: 'half' } }],
      },
      {
        name: 'colours',
        enabled: true,
        strategies: [],
        variants: [
          variant('red', 50, { overrides: [{ contextName: 'userId', values: ['vip'] }] }),
          variant('blue', 50, { payload: { type: 'string', value: 'b' } }),
        ],
      },
      { name: 'mono', enabled: true, strategies: [], variants: [variant('only', 1), variant('never', 0)] },
      {
        name: 'host',
        enabled: true,
        strategies: [{ name: 'applicationHostname', parameters: { hostNames: 'a,B' } }],
      },
    ],
  },
  { hostname: 'b', random: () => 0.5 },
);

describe('evaluate', () => {
  it('reports OFREP reasons', () => {
    expect(evaluator.evaluate('static')).toMatchObject({ enabled: true, reason: 'STATIC', flagFound: true });
    expect(evaluator.evaluate('everyone')).toMatchObject({
      enabled: true,
      reason: 'STATIC',
      matchedStrategy: { index: 0, name: 'default' },
    });
    expect(evaluator.evaluate('off')).toMatchObject({ enabled: false, reason: 'DISABLED', flagFound: true });
    expect(evaluator.evaluate('targeted', { userId: '7' })).toMatchObject({ reason: 'TARGETING_MATCH' });
    expect(evaluator.evaluate('targeted', { userId: '8' })).toMatchObject({
      enabled: false,
      reason: 'DEFAULT',
    });
    // A 100 % rollout with no constraints is on for everyone.
    expect(evaluator.evaluate('rollout', { userId: '8' })).toMatchObject({
      reason: 'STATIC',
      matchedStrategy: { index: 1, name: 'flexibleRollout' },
    });
    const half = [...Array(50).keys()].map((i) => evaluator.evaluate('half', { userId: String(i) }));
    expect(half.filter((e) => e.enabled).every((e) => e.reason === 'SPLIT')).toBe(true);
    expect(half.filter((e) => !e.enabled).every((e) => e.reason === 'DEFAULT')).toBe(true);
    expect(evaluator.evaluate('colours', { userId: 'vip' })).toMatchObject({
      reason: 'TARGETING_MATCH',
      variant: { name: 'red', enabled: true, feature_enabled: true },
    });
    expect(evaluator.evaluate('colours', { userId: 'u1' }).reason).toBe('SPLIT');
    expect(evaluator.evaluate('mono').reason).toBe('STATIC');
    expect(evaluator.evaluate('mono').variant).toStrictEqual({
      name: 'only',
      enabled: true,
      feature_enabled: true,
    });
  });

  it('tells a missing toggle apart', () => {
    expect(evaluator.evaluate('nope')).toStrictEqual({
      enabled: false,
      variant: { name: 'disabled', enabled: false, feature_enabled: false },
      reason: 'DEFAULT',
      flagFound: false,
    });
    expect(evaluator.has('nope')).toBe(false);
    expect(evaluator.featureNames).toContain('colours');
  });

  it('matches applicationHostname against the configured hostname, case-insensitively', () => {
    expect(evaluator.isEnabled('host')).toBe(true);
    const elsewhere = new ToggleEvaluator(
      {
        version: 2,
        features: [
          {
            name: 'host',
            enabled: true,
            strategies: [{ name: 'applicationHostname', parameters: { hostNames: 'a,B' } }],
          },
        ],
      },
      { hostname: 'c' },
    );
    expect(elsewhere.isEnabled('host')).toBe(false);
  });

  it('falls back from userId to sessionId to random for default stickiness', () => {
    const rollout = new ToggleEvaluator(
      {
        version: 2,
        features: [
          {
            name: 'r',
            enabled: true,
            strategies: [
              {
                name: 'flexibleRollout',
                parameters: { rollout: '10', groupId: 'Feature.flexibleRollout.10' },
              },
            ],
          },
        ],
      },
      { random: () => 0 },
    );
    expect(rollout.isEnabled('r', { userId: '174', sessionId: '499' })).toBe(true);
    expect(rollout.isEnabled('r', { sessionId: '174' })).toBe(true);
    expect(rollout.isEnabled('r', { sessionId: '499' })).toBe(false);
    expect(rollout.isEnabled('r', {})).toBe(rollout.isEnabled('r', { sessionId: '1' }));
  });
});
