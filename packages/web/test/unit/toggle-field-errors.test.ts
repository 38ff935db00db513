import { describe, expect, it } from 'vitest';
import {
  fieldErrors,
  keyOfMessage,
  normalizePath,
  placeErrors,
} from '../../src/pages/toggles/field-errors.js';

describe("placing the server's validation errors beside fields", () => {
  it('reads every spelling of a path', () => {
    expect(normalizePath('/body/strategies/0/parameters/rollout')).toBe('strategies.0.parameters.rollout');
    expect(normalizePath('strategies.1.constraints.0.operator')).toBe('strategies.1.constraints.0.operator');
    expect(normalizePath('variants[2].weight')).toBe('variants.2.weight');
    expect(normalizePath('')).toBe('');
  });

  it("finds the field a rule's message names", () => {
    expect(
      keyOfMessage(
        'strategies[0] (flexibleRollout): rollout must be a whole number from 0 to 100, got "150"',
      ),
    ).toBe('strategies.0.parameters.rollout');
    expect(keyOfMessage('strategies[2] (userWithId): needs parameters.userIds (comma-separated)')).toBe(
      'strategies.2.parameters.userIds',
    );
    expect(keyOfMessage('strategies[1] (default).constraints[3]: NUM_GT needs a value')).toBe(
      'strategies.1.constraints.3',
    );
    expect(keyOfMessage('strategies[0] (default): segment 9 does not exist in this app')).toBe(
      'strategies.0.segments',
    );
    expect(keyOfMessage('variants: fixed weights add up to 1200, more than 1000')).toBe('variants');
    expect(keyOfMessage('toggle "x" is archived')).toBe('');
  });

  it('prefers details, falls back to the message, and puts each error at the closest field shown', () => {
    const zod = fieldErrors({
      message: 'invalid request body',
      details: [{ path: '/strategies/0/constraints/1/operator', message: 'unknown operator "XX"' }],
    });
    const rule = fieldErrors({ message: 'variants: variant "a" appears twice' });
    const other = fieldErrors({ message: 'toggle "x" is archived' });
    const { at, rest } = placeErrors(
      [...zod, ...rule, ...other],
      ['strategies.0', 'strategies.0.constraints.1', 'variants'],
    );
    expect(at.get('strategies.0.constraints.1')).toEqual(['unknown operator "XX"']);
    expect(at.get('variants')).toEqual(['variants: variant "a" appears twice']);
    expect(at.has('strategies.0')).toBe(false);
    expect(rest).toEqual(['toggle "x" is archived']);
    expect(fieldErrors(null)).toEqual([]);
  });
});
