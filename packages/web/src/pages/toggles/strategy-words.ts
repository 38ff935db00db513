import { constraintOperators } from '@gantry/contracts/constraint-operators';
import type { Constraint, Strategy } from './toggle-api';

type StrategyName = Strategy['name'];
type Operator = Constraint['operator'];

/** The strategies Gantry evaluates, in words; `params` are the parameters each one needs. */
export const STRATEGIES: {
  name: StrategyName;
  label: string;
  params: { key: string; label: string; hint?: string }[];
}[] = [
  { name: 'default', label: 'Everyone (standard)', params: [] },
  {
    name: 'flexibleRollout',
    label: 'Gradual rollout',
    params: [
      { key: 'rollout', label: 'Rollout %', hint: 'A whole number from 0 to 100' },
      { key: 'stickiness', label: 'Stickiness', hint: 'default, userId, sessionId or random' },
      { key: 'groupId', label: 'Group id', hint: 'Users in the same group get the same answer' },
    ],
  },
  {
    name: 'userWithId',
    label: 'User ids',
    params: [{ key: 'userIds', label: 'User ids', hint: 'Comma-separated' }],
  },
  {
    name: 'remoteAddress',
    label: 'IP addresses',
    params: [{ key: 'IPs', label: 'IP addresses', hint: 'Comma-separated addresses or CIDR ranges' }],
  },
  {
    name: 'applicationHostname',
    label: 'Host names',
    params: [{ key: 'hostNames', label: 'Host names', hint: 'Comma-separated' }],
  },
  {
    name: 'gradualRolloutUserId',
    label: 'Gradual rollout by user id (legacy)',
    params: [
      { key: 'percentage', label: 'Percentage' },
      { key: 'groupId', label: 'Group id' },
    ],
  },
  {
    name: 'gradualRolloutSessionId',
    label: 'Gradual rollout by session id (legacy)',
    params: [
      { key: 'percentage', label: 'Percentage' },
      { key: 'groupId', label: 'Group id' },
    ],
  },
  {
    name: 'gradualRolloutRandom',
    label: 'Random share (legacy)',
    params: [{ key: 'percentage', label: 'Percentage' }],
  },
];

/** The server's own list (contracts), so an operator it adds appears here without a copy. */
export const OPERATORS: readonly Operator[] = constraintOperators;

/** Operators that compare with a list of values; the others compare with one value. */
export const MULTI_VALUE: readonly Operator[] = [
  'IN',
  'NOT_IN',
  'STR_CONTAINS',
  'STR_STARTS_WITH',
  'STR_ENDS_WITH',
  'IN_CIDR',
];

export const OPERATOR_LABEL: Record<Operator, string> = {
  IN: 'is one of',
  NOT_IN: 'is not one of',
  STR_CONTAINS: 'contains',
  STR_STARTS_WITH: 'starts with',
  STR_ENDS_WITH: 'ends with',
  NUM_EQ: '= (number)',
  NUM_GT: '> (number)',
  NUM_GTE: '≥ (number)',
  NUM_LT: '< (number)',
  NUM_LTE: '≤ (number)',
  DATE_AFTER: 'is after (date)',
  DATE_BEFORE: 'is before (date)',
  SEMVER_EQ: '= (version)',
  SEMVER_GT: '> (version)',
  SEMVER_LT: '< (version)',
  REGEX: 'matches (regular expression)',
  IN_CIDR: 'is in network (CIDR)',
};

export function strategyLabel(name: string): string {
  return STRATEGIES.find((s) => s.name === name)?.label ?? name;
}

/** One line for a strategy: "Gradual rollout 25%", "User ids 42, 7", "Everyone" (+ "with 2 constraints"). */
export function describeStrategy(s: {
  name: string;
  parameters?: Record<string, string>;
  constraints?: unknown[];
  segments?: number[];
}): string {
  const p = s.parameters ?? {};
  let text = strategyLabel(s.name);
  if (s.name === 'default') text = 'Everyone';
  if (s.name === 'flexibleRollout') text = `Gradual rollout ${p.rollout ?? '?'}%`;
  if (s.name.startsWith('gradualRollout')) text = `${text} ${p.percentage ?? '?'}%`;
  if (s.name === 'userWithId') text = `Users ${p.userIds ?? ''}`;
  if (s.name === 'remoteAddress') text = `IP addresses ${p.IPs ?? ''}`;
  if (s.name === 'applicationHostname') text = `Hosts ${p.hostNames ?? ''}`;
  const extras = [
    s.constraints?.length ? `${s.constraints.length} constraint${s.constraints.length > 1 ? 's' : ''}` : '',
    s.segments?.length ? `${s.segments.length} segment${s.segments.length > 1 ? 's' : ''}` : '',
  ].filter(Boolean);
  return extras.length ? `${text} (with ${extras.join(', ')})` : text;
}
