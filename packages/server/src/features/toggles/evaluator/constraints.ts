import { Address6 } from 'ip-address';
import { RE2JS } from 're2js';
import semver from 'semver';
import { contextValue } from './context-value.js';
import { type IPv4, ipv4InSubnet, parseIPv4 } from './parse-ipv4.js';
import type { ConstraintDefinition, ToggleContext } from './toggle-types.js';

export type ContextPredicate = (context: ToggleContext) => boolean;

export const never: ContextPredicate = () => false;

type OperatorCompiler = (constraint: ConstraintDefinition) => ContextPredicate;

// Mirrors unleash-client's cleanValues: empty values dropped, the rest trimmed.
function cleanValues(values: ConstraintDefinition['values']): string[] {
  if (!Array.isArray(values)) return [];
  return values.filter((v) => !!v).map((v) => String(v).trim());
}

const inOperator: OperatorCompiler = ({ contextName, operator, values }) => {
  const set = new Set(cleanValues(values));
  const wantIn = operator === 'IN';
  return (context) => set.has(contextValue(context, contextName) as string) === wantIn;
};

function stringOperator(test: (contextValue: string, value: string) => boolean): OperatorCompiler {
  return ({ contextName, values, caseInsensitive }) => {
    const cleaned = cleanValues(values);
    if (!caseInsensitive) {
      return (context) => {
        const actual = contextValue(context, contextName);
        return typeof actual === 'string' && cleaned.some((v) => test(actual, v));
      };
    }
    const lowered = cleaned.map((v) => v.toLocaleLowerCase());
    return (context) => {
      const actual = contextValue(context, contextName)?.toLocaleLowerCase();
      return typeof actual === 'string' && lowered.some((v) => test(actual, v));
    };
  };
}

function numberOperator(compare: (actual: number, expected: number) => boolean): OperatorCompiler {
  return ({ contextName, value }) => {
    const expected = Number(value);
    if (Number.isNaN(expected)) return never;
    return (context) => {
      const actual = Number(contextValue(context, contextName));
      return !Number.isNaN(actual) && compare(actual, expected);
    };
  };
}

function parseDate(value: unknown): number {
  if (value === null) return 0;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string' || typeof value === 'number') return new Date(value).getTime();
  return Number.NaN;
}

// Like the Node SDK, DATE_* ignore contextName and always read currentTime.
function dateOperator(compare: (now: number, expected: number) => boolean): OperatorCompiler {
  return ({ value }) => {
    const expected = parseDate(value);
    if (Number.isNaN(expected)) return never;
    return (context) => {
      const now = context.currentTime ? parseDate(context.currentTime) : Date.now();
      return compare(now, expected);
    };
  };
}

function semverOperator(compare: (order: number) => boolean): OperatorCompiler {
  return ({ contextName, value }) => {
    const expected = typeof value === 'string' ? semver.parse(value) : null;
    if (!expected) return never;
    return (context) => {
      const actual = contextValue(context, contextName);
      if (!actual || actual.startsWith('v')) return false;
      const parsed = semver.parse(actual);
      return parsed !== null && compare(parsed.compare(expected));
    };
  };
}

const regexOperator: OperatorCompiler = ({ contextName, value, caseInsensitive }) => {
  let regex: RE2JS;
  try {
    regex = RE2JS.compile(value as string, caseInsensitive ? RE2JS.CASE_INSENSITIVE : undefined);
  } catch {
    return never;
  }
  return (context) => {
    const actual = contextValue(context, contextName);
    return typeof actual === 'string' && regex.test(actual);
  };
};

type Range6 = { address: Address6; correctForm: string };

const IPV6_CACHE_SIZE = 1024;
const ipv6Cache = new Map<string, { address: Address6; form: string } | null>();

// Address6 parsing costs tens of microseconds and clients repeat their addresses, so parses are kept.
function parseIPv6(text: string): { address: Address6; form: string } | null {
  let parsed = ipv6Cache.get(text);
  if (parsed !== undefined) return parsed;
  try {
    const address = new Address6(text);
    parsed = { address, form: address.correctForm() };
  } catch {
    parsed = null;
  }
  if (ipv6Cache.size >= IPV6_CACHE_SIZE) ipv6Cache.clear();
  ipv6Cache.set(text, parsed);
  return parsed;
}

function parseRanges6(values: string[]): Range6[] {
  const ranges: Range6[] = [];
  for (const value of values) {
    try {
      const address = new Address6(value);
      ranges.push({ address, correctForm: address.correctForm() });
    } catch {}
  }
  return ranges;
}

// unleash-client's IN_CIDR: an address matches a range of its own family that it equals or lies in.
const cidrOperator: OperatorCompiler = ({ contextName, values }) => {
  const cleaned = cleanValues(values);
  const v4 = cleaned.map(parseIPv4).filter((r): r is IPv4 => r !== null);
  const v6 = parseRanges6(cleaned);
  return (context) => {
    const actual = contextValue(context, contextName);
    if (typeof actual !== 'string') return false;
    const address4 = parseIPv4(actual);
    if (address4) {
      return v4.some((r) => address4.correctForm === r.correctForm || ipv4InSubnet(address4, r));
    }
    const address6 = parseIPv6(actual);
    return (
      address6 !== null &&
      v6.some((r) => address6.form === r.correctForm || address6.address.isInSubnet(r.address))
    );
  };
};

const operators: Record<string, OperatorCompiler> = {
  IN: inOperator,
  NOT_IN: inOperator,
  STR_STARTS_WITH: stringOperator((actual, v) => actual.startsWith(v)),
  STR_ENDS_WITH: stringOperator((actual, v) => actual.endsWith(v)),
  STR_CONTAINS: stringOperator((actual, v) => actual.includes(v)),
  NUM_EQ: numberOperator((a, e) => a === e),
  NUM_GT: numberOperator((a, e) => a > e),
  NUM_GTE: numberOperator((a, e) => a >= e),
  NUM_LT: numberOperator((a, e) => a < e),
  NUM_LTE: numberOperator((a, e) => a <= e),
  DATE_AFTER: dateOperator((now, e) => now > e),
  DATE_BEFORE: dateOperator((now, e) => now < e),
  SEMVER_EQ: semverOperator((order) => order === 0),
  SEMVER_GT: semverOperator((order) => order > 0),
  SEMVER_GTE: semverOperator((order) => order >= 0),
  SEMVER_LT: semverOperator((order) => order < 0),
  SEMVER_LTE: semverOperator((order) => order <= 0),
  REGEX: regexOperator,
  IN_CIDR: cidrOperator,
};

export const constraintOperators: readonly string[] = Object.keys(operators);

/** Compiles one constraint; `inverted` negates the operator, but an unknown operator is false either way. */
export function compileConstraint(constraint: ConstraintDefinition): ContextPredicate {
  const compiler = Object.hasOwn(operators, constraint.operator) ? operators[constraint.operator] : undefined;
  if (!compiler) return never;
  const predicate = compiler(constraint);
  if (!constraint.inverted) return predicate;
  return (context) => !predicate(context);
}

/** Constraints are ANDed; an empty list is true. */
export function allOf(predicates: ContextPredicate[]): ContextPredicate | undefined {
  if (predicates.length === 0) return undefined;
  if (predicates.length === 1) return predicates[0];
  return (context) => {
    for (const predicate of predicates) if (!predicate(context)) return false;
    return true;
  };
}
