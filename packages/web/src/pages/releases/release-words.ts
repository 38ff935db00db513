import { describeStrategy } from '../toggles/strategy-words';

/** A change as a release holds it (the fields left out stay as they are). */
export interface ChangeSpec {
  enabled?: boolean;
  rollout?: number;
  strategies?: {
    name: string;
    parameters?: Record<string, string>;
    constraints?: unknown[];
    segments?: number[];
  }[];
  variants?: { name: string; weight: number }[];
}

/** A toggle's state in an environment, as far as a release changes it. */
export interface StateSpec {
  enabled: boolean;
  strategies: NonNullable<ChangeSpec['strategies']>;
  variants: NonNullable<ChangeSpec['variants']>;
}

const who = (strategies: ChangeSpec['strategies']) =>
  strategies?.length ? strategies.map(describeStrategy).join('; ') : 'Everyone';

/** What a change does, in words a product owner reads: "turn on · gradual rollout 25%". */
export function describeChange(c: ChangeSpec): string {
  const out: string[] = [];
  if (c.enabled !== undefined) out.push(c.enabled ? 'turn on' : 'turn off');
  if (c.rollout !== undefined) out.push(`roll out to ${c.rollout}% of users`);
  if (c.strategies !== undefined) out.push(`who gets it: ${who(c.strategies)}`);
  if (c.variants !== undefined)
    out.push(`variants: ${c.variants.length ? c.variants.map((v) => v.name).join(', ') : 'none'}`);
  return out.join(' · ') || 'no change';
}

/** "off → on", "Everyone → Gradual rollout 25%": a state before and after, only what differs. */
export function describeMove(from: StateSpec, to: StateSpec): string {
  const out: string[] = [];
  if (from.enabled !== to.enabled) out.push(`${from.enabled ? 'on' : 'off'} → ${to.enabled ? 'on' : 'off'}`);
  else out.push(`stays ${to.enabled ? 'on' : 'off'}`);
  const wf = who(from.strategies);
  const wt = who(to.strategies);
  if (wf !== wt) out.push(`${wf} → ${wt}`);
  const vf = from.variants.map((v) => v.name).join(', ') || 'no variants';
  const vt = to.variants.map((v) => v.name).join(', ') || 'no variants';
  if (vf !== vt) out.push(`${vf} → ${vt}`);
  return out.join(' · ');
}

/** The state a change leads to from `current` (a rollout replaces the first gradual rollout, as the server does). */
export function afterChange(current: StateSpec, c: ChangeSpec): StateSpec {
  let strategies = c.strategies ?? current.strategies;
  if (c.rollout !== undefined) {
    const i = strategies.findIndex((s) => s.name === 'flexibleRollout');
    const rollout = String(c.rollout);
    strategies =
      i < 0
        ? [
            ...strategies.filter((s) => s.name !== 'default'),
            { name: 'flexibleRollout', parameters: { rollout, stickiness: 'default' }, constraints: [] },
          ]
        : strategies.map((s, j) => (j === i ? { ...s, parameters: { ...s.parameters, rollout } } : s));
  }
  return {
    enabled: c.enabled ?? current.enabled,
    strategies,
    variants: c.variants ?? current.variants,
  };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A time as a datetime-local input shows it: the user's own time zone, to the second. */
export function toLocalInput(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(
    d.getMinutes(),
  )}:${pad(d.getSeconds())}`;
}

/** A datetime-local value (the user's time zone) as the ISO instant the server takes; null if not a time. */
export function fromLocalInput(value: string): string | null {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(value)) return null;
  const d = new Date(value); // no zone in the string: the browser reads it as local time
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
