import { allOf, type ContextPredicate, compileConstraint, never } from './constraints.js';
import { contextValue } from './context-value.js';
import { normalizedStrategyValue } from './hashing.js';
import { type IPv4, ipv4InSubnet, parseIPv4 } from './parse-ipv4.js';
import { type CompiledSegments, segmentPredicates } from './segments.js';
import type { StrategyDefinition, ToggleContext } from './toggle-types.js';
import { compileVariants, type VariantSelector } from './variants.js';

export type CompiledStrategy = {
  index: number;
  name: string;
  /** Constraints, segments and the strategy's own rule. */
  matches: ContextPredicate;
  /** Whether the strategy enables only part of its audience by hashing or chance. */
  partial: boolean;
  /** No constraints, no segments and a rule that is always true: the toggle is on for everyone. */
  unconditional: boolean;
  variants: VariantSelector | undefined;
};

export type StrategyEnvironment = { hostname: string; random: () => number };

type Parameters = Record<string, unknown>;
type StrategyRule = { test: ContextPredicate; partial: boolean };
type RuleCompiler = (parameters: Parameters, env: StrategyEnvironment) => StrategyRule;

const always: ContextPredicate = () => true;
const LIST_SEPARATOR = /\s*,\s*/;

function isPartial(percentage: number): boolean {
  return percentage > 0 && percentage < 100;
}

function percentageRule(
  percentage: number,
  id: (context: ToggleContext) => unknown,
  groupId: (context: ToggleContext) => unknown,
): StrategyRule {
  if (!(percentage > 0)) return { test: never, partial: false };
  return {
    partial: isPartial(percentage),
    test: (context) => {
      const stickinessId = id(context);
      return !!stickinessId && normalizedStrategyValue(stickinessId, groupId(context)) <= percentage;
    },
  };
}

const flexibleRollout: RuleCompiler = (parameters, { random }) => {
  const percentage = Number(parameters.rollout);
  const stickiness = String(parameters.stickiness || 'default');
  const randomId = () => `${Math.round(random() * 10000) + 1}`;
  if (percentage >= 100 && (stickiness === 'default' || stickiness === 'random')) {
    return { test: always, partial: false };
  }
  const id =
    stickiness === 'default'
      ? (context: ToggleContext) => context.userId || context.sessionId || randomId()
      : stickiness === 'random'
        ? randomId
        : (context: ToggleContext) => contextValue(context, stickiness);
  const fixedGroup = parameters.groupId;
  // The Node SDK falls back to a `featureToggle` context field, then to '', not to the toggle's name.
  const groupId = fixedGroup ? () => fixedGroup : (context: ToggleContext) => context.featureToggle || '';
  return percentageRule(percentage, id, groupId);
};

function gradualRollout(field: 'userId' | 'sessionId'): RuleCompiler {
  return (parameters) => {
    const groupId = parameters.groupId || '';
    return percentageRule(
      Number(parameters.percentage),
      (context) => context[field],
      () => groupId,
    );
  };
}

const gradualRolloutRandom: RuleCompiler = (parameters, { random }) => {
  const percentage = Number(parameters.percentage);
  return {
    partial: isPartial(percentage),
    test: () => percentage >= Math.floor(random() * 100) + 1,
  };
};

const userWithId: RuleCompiler = (parameters) => {
  const ids = new Set<unknown>(parameters.userIds ? String(parameters.userIds).split(LIST_SEPARATOR) : []);
  return { partial: false, test: (context) => context.userId !== undefined && ids.has(context.userId) };
};

const remoteAddress: RuleCompiler = (parameters) => {
  if (!parameters.IPs) return { test: never, partial: false };
  const ranges = String(parameters.IPs)
    .split(LIST_SEPARATOR)
    .map((range) => ({ range, subnet: parseIPv4(range) }));
  return {
    partial: false,
    test: (context) => {
      const address = context.remoteAddress;
      let remote: IPv4 | null | undefined;
      for (const { range, subnet } of ranges) {
        if (range === address) return true;
        if (!subnet) continue;
        remote ??= typeof address === 'string' ? parseIPv4(address) : null;
        if (remote && ipv4InSubnet(remote, subnet)) return true;
      }
      return false;
    },
  };
};

const applicationHostname: RuleCompiler = (parameters, { hostname }) => {
  if (!parameters.hostNames) return { test: never, partial: false };
  const names = String(parameters.hostNames).toLowerCase().split(LIST_SEPARATOR);
  return { test: names.includes(hostname) ? always : never, partial: false };
};

const rules: Record<string, RuleCompiler> = {
  default: () => ({ test: always, partial: false }),
  flexibleRollout,
  userWithId,
  remoteAddress,
  applicationHostname,
  gradualRolloutUserId: gradualRollout('userId'),
  gradualRolloutSessionId: gradualRollout('sessionId'),
  gradualRolloutRandom,
};

export const strategyNames: readonly string[] = Object.keys(rules);

/** Undefined for a strategy this evaluator does not know: like the SDK, the toggle skips it. */
export function compileStrategy(
  definition: StrategyDefinition,
  index: number,
  segments: CompiledSegments,
  env: StrategyEnvironment,
): CompiledStrategy | undefined {
  const compileRule = Object.hasOwn(rules, definition.name) ? rules[definition.name] : undefined;
  if (!compileRule) return undefined;
  const parameters: Parameters = definition.parameters ?? {};
  const rule = compileRule(parameters, env);
  const guard = allOf([
    ...(definition.constraints ?? []).map(compileConstraint),
    ...segmentPredicates(definition.segments, segments),
  ]);
  const test = rule.test;
  const matches = test === never ? never : guard ? (c: ToggleContext) => guard(c) && test(c) : test;
  const first = definition.variants?.[0];
  return {
    index,
    name: definition.name,
    matches,
    partial: rule.partial,
    unconditional: matches === always,
    variants: compileVariants(
      definition.variants,
      parameters.groupId,
      first ? first.stickiness || parameters.stickiness : undefined,
      env.random,
    ),
  };
}
