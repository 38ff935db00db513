import type { ToggleDependency, ToggleStrategy, ToggleVariant } from '@gantry/contracts';
import { InvalidInput } from '../../errors.js';

const PERCENT = /^(100|[1-9]?[0-9])$/;

/** Strategy parameters Unleash SDKs rely on, checked before anything is stored. */
export function checkStrategies(strategies: ToggleStrategy[], segmentIds: Set<number>): void {
  strategies.forEach((s, i) => {
    const at = `strategies[${i}] (${s.name})`;
    const p = s.parameters;
    if (s.name === 'flexibleRollout') {
      if (p.rollout === undefined || !PERCENT.test(p.rollout)) {
        throw new InvalidInput(
          `${at}: rollout must be a whole number from 0 to 100, got ${JSON.stringify(p.rollout)}`,
        );
      }
    }
    if (s.name.startsWith('gradualRollout') && p.percentage !== undefined && !PERCENT.test(p.percentage)) {
      throw new InvalidInput(
        `${at}: percentage must be a whole number from 0 to 100, got ${JSON.stringify(p.percentage)}`,
      );
    }
    if (s.name === 'userWithId' && !p.userIds)
      throw new InvalidInput(`${at}: needs parameters.userIds (comma-separated)`);
    if (s.name === 'remoteAddress' && !p.IPs)
      throw new InvalidInput(`${at}: needs parameters.IPs (comma-separated)`);
    if (s.name === 'applicationHostname' && !p.hostNames)
      throw new InvalidInput(`${at}: needs parameters.hostNames`);
    for (const id of s.segments ?? []) {
      if (!segmentIds.has(id)) throw new InvalidInput(`${at}: segment ${id} does not exist in this app`);
    }
    s.constraints.forEach((c, j) => {
      if (c.operator === 'IN' || c.operator === 'NOT_IN') {
        if (!c.values) throw new InvalidInput(`${at}.constraints[${j}]: ${c.operator} needs values`);
      } else if (c.value === undefined && !c.values?.length) {
        throw new InvalidInput(`${at}.constraints[${j}]: ${c.operator} needs a value`);
      }
    });
    if (s.variants) checkVariants(s.variants, `${at}.variants`);
  });
}

/** Unleash distributes 1000 weight units: fixed weights may not exceed it, and all-fixed must equal it. */
export function checkVariants(variants: ToggleVariant[], at = 'variants'): void {
  if (variants.length === 0) return;
  const names = new Set<string>();
  for (const v of variants) {
    if (names.has(v.name)) throw new InvalidInput(`${at}: variant "${v.name}" appears twice`);
    names.add(v.name);
  }
  const fixed = variants.filter((v) => v.weightType === 'fix');
  const fixedSum = fixed.reduce((n, v) => n + v.weight, 0);
  if (fixedSum > 1000) throw new InvalidInput(`${at}: fixed weights add up to ${fixedSum}, more than 1000`);
  if (fixed.length === variants.length && fixedSum !== 1000) {
    throw new InvalidInput(
      `${at}: all weights are fixed and add up to ${fixedSum}; they must add up to 1000`,
    );
  }
}

/**
 * Rejects a dependency on a missing toggle and any cycle, given every toggle's dependencies with
 * `name`'s replaced by `deps`.
 */
export function checkDependencies(
  name: string,
  deps: ToggleDependency[],
  all: Map<string, ToggleDependency[]>,
): void {
  for (const d of deps) {
    if (d.feature === name) throw new InvalidInput(`toggle "${name}" cannot depend on itself`);
    if (!all.has(d.feature))
      throw new InvalidInput(`toggle "${name}" depends on "${d.feature}", which does not exist`);
  }
  const graph = new Map(all);
  graph.set(name, deps);
  const visiting = new Set<string>();
  const visit = (n: string, path: string[]): void => {
    if (visiting.has(n)) throw new InvalidInput(`dependency cycle: ${[...path, n].join(' → ')}`);
    visiting.add(n);
    for (const d of graph.get(n) ?? []) visit(d.feature, [...path, n]);
    visiting.delete(n);
  };
  visit(name, []);
}

/** Sets the rollout of the toggle's first flexibleRollout strategy, adding one when there is none. */
export function withRollout(
  strategies: ToggleStrategy[],
  percent: number,
  groupId: string,
): ToggleStrategy[] {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
    throw new InvalidInput(`rollout must be a whole number from 0 to 100, got ${percent}`);
  }
  const i = strategies.findIndex((s) => s.name === 'flexibleRollout');
  if (i < 0) {
    return [
      ...strategies.filter((s) => s.name !== 'default'),
      {
        name: 'flexibleRollout',
        parameters: { rollout: String(percent), stickiness: 'default', groupId },
        constraints: [],
      },
    ];
  }
  return strategies.map((s, j) =>
    j === i ? { ...s, parameters: { ...s.parameters, rollout: String(percent) } } : s,
  );
}
