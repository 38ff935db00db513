export { type CompiledFeature, type CompiledToggles, compileToggles } from './compile-toggles.js';
export { compileConstraint, constraintOperators } from './constraints.js';
export { contextValue } from './context-value.js';
export { normalizedHash, normalizedStrategyValue, normalizedVariantValue } from './hashing.js';
export { strategyNames } from './strategies.js';
export { ToggleEvaluator } from './toggle-evaluator.js';
export type * from './toggle-types.js';
