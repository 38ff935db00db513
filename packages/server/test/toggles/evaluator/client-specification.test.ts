import { describe, expect, it } from 'vitest';
import { ToggleEvaluator } from '../../../src/features/toggles/evaluator/toggle-evaluator.js';
import { loadClientSpecs } from './client-spec-cases.js';

const specs = loadClientSpecs();

describe('@unleash/client-specification through the evaluator', () => {
  it('covers every file of index.json', () => {
    expect(specs.length).toBeGreaterThanOrEqual(22);
    const cases = specs.reduce((n, s) => n + s.tests.length + s.variantTests.length, 0);
    expect(cases).toBeGreaterThanOrEqual(279);
  });

  for (const spec of specs) {
    describe(spec.file, () => {
      const evaluator = new ToggleEvaluator(spec.state);
      for (const c of spec.tests) {
        it(`isEnabled: ${c.description}`, () => {
          expect(evaluator.isEnabled(c.toggleName, c.context)).toBe(c.expectedResult);
          expect(evaluator.evaluate(c.toggleName, c.context).enabled).toBe(c.expectedResult);
        });
      }
      for (const c of spec.variantTests) {
        it(`getVariant: ${c.description}`, () => {
          expect(evaluator.getVariant(c.toggleName, c.context)).toStrictEqual(c.expectedResult);
          expect(evaluator.evaluate(c.toggleName, c.context).variant).toStrictEqual(c.expectedResult);
        });
      }
    });
  }
});
