import type { Toggle, ToggleStrategy } from '@gantry/contracts';

/** On for everyone: enabled, and some strategy lets every user in (no constraints, no segments, 100%). */
export function fullyOn(t: Toggle, env: string): boolean {
  const e = t.environments.find((x) => x.env === env);
  if (!e?.enabled) return false;
  if (e.strategies.length === 0) return true;
  return e.strategies.some(
    (s: ToggleStrategy) =>
      !s.disabled &&
      s.constraints.length === 0 &&
      !s.segments?.length &&
      (s.name === 'default' || (s.name === 'flexibleRollout' && s.parameters.rollout === '100')),
  );
}

export interface StaleToggle {
  name: string;
  reason: 'fully-on' | 'not-evaluated';
  since: string | null;
  days: number;
}

/**
 * Candidates for removal: fully on in `env` for more than `days`, or not evaluated for `days`
 * (when usage is known: `lastEvaluated` maps toggle → last time an SDK reported it).
 */
export function staleToggles(
  toggles: Toggle[],
  env: string,
  days: number,
  now: number,
  lastEvaluated?: Map<string, string>,
): StaleToggle[] {
  const limit = days * 86_400_000;
  const out: StaleToggle[] = [];
  for (const t of toggles) {
    if (t.archivedAt) continue;
    const since = t.environments.find((e) => e.env === env)?.enabledSince ?? null;
    if (fullyOn(t, env) && since && now - Date.parse(since) > limit) {
      out.push({
        name: t.name,
        reason: 'fully-on',
        since,
        days: Math.floor((now - Date.parse(since)) / 86_400_000),
      });
      continue;
    }
    if (lastEvaluated) {
      const last = lastEvaluated.get(t.name) ?? null;
      const from = last ?? t.createdAt;
      if (now - Date.parse(from) > limit) {
        out.push({
          name: t.name,
          reason: 'not-evaluated',
          since: last,
          days: Math.floor((now - Date.parse(from)) / 86_400_000),
        });
      }
    }
  }
  return out;
}

export interface EnvDiff {
  field: 'enabled' | 'strategies' | 'variants';
  from: unknown;
  to: unknown;
}

/** What copying a toggle's state from one environment to another would change in the target. */
export function diffEnvironments(t: Toggle, from: string, to: string): EnvDiff[] {
  const a = t.environments.find((e) => e.env === from);
  const b = t.environments.find((e) => e.env === to);
  const out: EnvDiff[] = [];
  const pairs: [EnvDiff['field'], unknown, unknown][] = [
    ['enabled', b?.enabled ?? false, a?.enabled ?? false],
    ['strategies', b?.strategies ?? [], a?.strategies ?? []],
    ['variants', b?.variants ?? [], a?.variants ?? []],
  ];
  for (const [field, current, next] of pairs) {
    if (JSON.stringify(current) !== JSON.stringify(next)) out.push({ field, from: current, to: next });
  }
  return out;
}
