import { describeStrategy } from './strategy-words';

/** One entry of the event log, as GET /api/events answers. */
export interface HistoryEvent {
  id: number;
  type: string;
  actor: string;
  data: Record<string, unknown>;
  createdAt: string;
}

export interface HistoryEntry {
  id: number;
  at: string;
  actor: string;
  /** The environment changed, when the event is about one. */
  env: string | null;
  /** What happened, in words: "turned on", "strategies: Gradual rollout 25% → Everyone". */
  what: string[];
  /** The release that made the change (and whether it was its revert). */
  release: { name: string; revert: boolean } | null;
}

interface EnvState {
  enabled?: boolean;
  strategies?: {
    name: string;
    parameters?: Record<string, string>;
    constraints?: unknown[];
    segments?: number[];
  }[];
  variants?: { name: string; weight: number }[];
}

const strategies = (s: EnvState['strategies']) =>
  s?.length ? s.map(describeStrategy).join('; ') : 'none (everyone)';
const variants = (v: EnvState['variants']) =>
  v?.length ? v.map((x) => `${x.name} ${x.weight / 10}%`).join(', ') : 'none';

/** What changed between two states of a toggle in one environment, in words. */
export function describeEnvChange(before: EnvState | undefined, after: EnvState | undefined): string[] {
  const out: string[] = [];
  if (!!before?.enabled !== !!after?.enabled) out.push(after?.enabled ? 'turned on' : 'turned off');
  const sb = strategies(before?.strategies);
  const sa = strategies(after?.strategies);
  if (sb !== sa || JSON.stringify(before?.strategies ?? []) !== JSON.stringify(after?.strategies ?? []))
    out.push(sb === sa ? `strategies edited: ${sa}` : `strategies: ${sb} → ${sa}`);
  const vb = variants(before?.variants);
  const va = variants(after?.variants);
  if (JSON.stringify(before?.variants ?? []) !== JSON.stringify(after?.variants ?? []))
    out.push(vb === va ? `variants edited: ${va}` : `variants: ${vb} → ${va}`);
  return out.length ? out : ['saved without a change'];
}

const META: [string, string][] = [
  ['type', 'type'],
  ['description', 'description'],
  ['owner', 'owner'],
  ['impressionData', 'impression data'],
];

/** The toggle's events (created, changed, archived), newest first, in words. */
export function toggleHistory(events: HistoryEvent[]): HistoryEntry[] {
  return events
    .filter((e) => e.type.startsWith('toggle.'))
    .map((e): HistoryEntry => {
      const d = e.data;
      const release = typeof d.release === 'string' ? { name: d.release, revert: d.revert === true } : null;
      const base = { id: e.id, at: e.createdAt, actor: e.actor, release };
      if (e.type === 'toggle.created') return { ...base, env: null, what: ['created'] };
      if (e.type === 'toggle.archived') return { ...base, env: null, what: ['archived'] };
      if (typeof d.env === 'string' && Array.isArray(d.imported))
        return { ...base, env: d.env, what: ['imported'] };
      if (typeof d.env === 'string')
        return {
          ...base,
          env: d.env,
          what: describeEnvChange(d.before as EnvState | undefined, d.after as EnvState | undefined),
        };
      const before = (d.before ?? {}) as Record<string, unknown>;
      const after = (d.after ?? {}) as Record<string, unknown>;
      const what = META.filter(([k]) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).map(
        ([k, label]) => `${label}: ${String(before[k] ?? '—')} → ${String(after[k] ?? '—')}`,
      );
      if (JSON.stringify(before.dependencies) !== JSON.stringify(after.dependencies))
        what.push('dependencies changed');
      return { ...base, env: null, what: what.length ? what : ['details saved'] };
    })
    .reverse();
}
