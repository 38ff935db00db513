/** Unleash's constraint operators. A module of its own, without zod, so the console can import it. */
export const constraintOperators = [
  'IN',
  'NOT_IN',
  'STR_CONTAINS',
  'STR_STARTS_WITH',
  'STR_ENDS_WITH',
  'NUM_EQ',
  'NUM_GT',
  'NUM_GTE',
  'NUM_LT',
  'NUM_LTE',
  'DATE_AFTER',
  'DATE_BEFORE',
  'SEMVER_EQ',
  'SEMVER_GT',
  'SEMVER_LT',
  'REGEX',
  'IN_CIDR',
] as const;
export type ConstraintOperator = (typeof constraintOperators)[number];
