import type { Toggle, ToggleConstraint, ToggleStrategy } from '@gantry/contracts';

const hasRules = (s: ToggleStrategy) => s.constraints.length > 0 || (s.segments?.length ?? 0) > 0;

function label(s: ToggleStrategy): string {
  if (s.name === 'default') return hasRules(s) ? 'targeted' : 'all';
  if (s.name === 'flexibleRollout') return `${s.parameters.rollout ?? '?'}%${hasRules(s) ? ' targeted' : ''}`;
  return s.name;
}

/**
 * One environment's state in one word or two, the same everywhere: `off`; `on (all)` when everyone
 * gets it (no strategy, or a `default` one without constraints); `on 25%` for a plain rollout;
 * otherwise `on (…)` naming each strategy (`targeted` for one with constraints or segments).
 */
export function describeEnv(t: Toggle, env: string): string {
  const e = t.environments.find((x) => x.env === env);
  if (!e?.enabled) return 'off';
  const active = e.strategies.filter((s) => !s.disabled);
  const labels = [...new Set(active.map(label))];
  if (labels.length === 0 || labels.includes('all')) return 'on (all)';
  if (
    labels.length === 1 &&
    active.length === 1 &&
    active[0]!.name === 'flexibleRollout' &&
    !hasRules(active[0]!)
  )
    return `on ${labels[0]}`;
  return `on (${labels.join(', ')})`;
}

export function describeConstraint(c: ToggleConstraint): string {
  const op = `${c.inverted ? 'NOT ' : ''}${c.operator}${c.caseInsensitive ? '/i' : ''}`;
  return `${c.contextName} ${op} ${c.values?.join(',') ?? c.value ?? ''}`.trim();
}

export function describeStrategy(s: ToggleStrategy, segmentNames = new Map<number, string>()): string {
  const params = Object.entries(s.parameters)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const rules = [
    ...s.constraints.map(describeConstraint),
    ...(s.segments ?? []).map((id) => `segment ${segmentNames.get(id) ?? `#${id}`}`),
  ];
  return `${s.name}${params ? ` ${params}` : ''}${rules.length ? ` where ${rules.join(' and ')}` : ''}${s.disabled ? ' (disabled)' : ''}`;
}
