import { describe, expect, it } from 'vitest';
import { ToggleEvaluator } from '../../../src/features/toggles/evaluator/toggle-evaluator.js';
import type {
  ConstraintDefinition,
  FeatureDefinition,
  ToggleContext,
} from '../../../src/features/toggles/evaluator/toggle-types.js';

function withConstraint(constraint: ConstraintDefinition): ToggleEvaluator {
  return new ToggleEvaluator({
    version: 2,
    features: [{ name: 't', enabled: true, strategies: [{ name: 'default', constraints: [constraint] }] }],
  });
}

const context: ToggleContext = {
  userId: '42',
  currentTime: '2024-01-01T00:00:00Z',
  properties: { n: '5', version: '1.2.3', name: 'gantry' },
};

describe('bad input at the evaluator', () => {
  it('an unknown operator evaluates false, inverted or not', () => {
    for (const inverted of [false, true]) {
      const evaluator = withConstraint({
        contextName: 'userId',
        operator: 'NOT_AN_OP',
        values: ['42'],
        inverted,
      });
      expect(evaluator.isEnabled('t', context)).toBe(false);
      expect(evaluator.evaluate('t', context)).toMatchObject({ enabled: false, reason: 'DEFAULT' });
    }
  });

  it.each([
    ['NUM_EQ', 'n', 'five'],
    ['NUM_GT', 'n', undefined],
    ['NUM_LTE', 'n', 'NaN'],
    ['DATE_AFTER', 'currentTime', 'yesterday'],
    ['DATE_BEFORE', 'currentTime', undefined],
    ['SEMVER_EQ', 'version', 'one.two'],
    ['SEMVER_GT', 'version', undefined],
    ['SEMVER_LT', 'version', '1.2'],
    ['REGEX', 'name', '(unclosed'],
  ])('%s with the invalid value %j evaluates false without throwing', (operator, contextName, value) => {
    const evaluator = withConstraint({ contextName, operator, value });
    expect(() => evaluator.isEnabled('t', context)).not.toThrow();
    expect(evaluator.isEnabled('t', context)).toBe(false);
  });

  it('invalid values in the context evaluate false without throwing', () => {
    const cases: [ConstraintDefinition, ToggleContext][] = [
      [{ contextName: 'n', operator: 'NUM_GT', value: '1' }, { properties: { n: 'lots' } }],
      [{ contextName: 'x', operator: 'DATE_AFTER', value: '2020-01-01' }, { currentTime: 'soon' }],
      [
        { contextName: 'version', operator: 'SEMVER_GT', value: '1.0.0' },
        { properties: { version: 'v2.0.0' } },
      ],
      [
        { contextName: 'version', operator: 'SEMVER_GT', value: '1.0.0' },
        { properties: { version: 'latest' } },
      ],
      [
        { contextName: 'remoteAddress', operator: 'IN_CIDR', values: ['10.0.0.0/8'] },
        { remoteAddress: 'x.y' },
      ],
    ];
    for (const [constraint, ctx] of cases) {
      expect(withConstraint(constraint).isEnabled('t', ctx)).toBe(false);
    }
  });

  it('a dependency cycle evaluates false', () => {
    const features: FeatureDefinition[] = [
      { name: 'a', enabled: true, strategies: [], dependencies: [{ feature: 'b' }] },
      { name: 'b', enabled: true, strategies: [], dependencies: [{ feature: 'c' }] },
      { name: 'c', enabled: true, strategies: [], dependencies: [{ feature: 'a' }] },
      { name: 'self', enabled: true, strategies: [], dependencies: [{ feature: 'self', enabled: false }] },
    ];
    const evaluator = new ToggleEvaluator({ version: 2, features });
    for (const name of ['a', 'b', 'c', 'self']) {
      expect(evaluator.isEnabled(name)).toBe(false);
      expect(evaluator.getVariant(name)).toEqual({
        name: 'disabled',
        enabled: false,
        feature_enabled: false,
      });
    }
  });

  it('a missing parent, a missing segment and malformed strategies evaluate false', () => {
    const evaluator = new ToggleEvaluator({
      version: 2,
      features: [
        { name: 'orphan', enabled: true, strategies: [], dependencies: [{ feature: 'gone' }] },
        { name: 'segment', enabled: true, strategies: [{ name: 'default', segments: [404] }] },
        { name: 'malformed', enabled: true, strategies: 'default' as unknown as [] },
      ],
    });
    for (const name of ['orphan', 'segment', 'malformed']) expect(evaluator.isEnabled(name)).toBe(false);
  });
});
