import { DAY_MS } from './time.js';

export type Band = 'elite' | 'high' | 'medium' | 'low';

/**
 * Convention: cut-offs read from the DORA 2023 State of DevOps Report clusters. Where that year's
 * clusters overlap (medium and low share ranges), the boundary between them is our choice.
 */
export const BANDS_SOURCE = 'DORA 2023 State of DevOps Report clusters (convention)';

export interface KeyValues {
  deploymentsPerDay: number | null;
  leadTimeMedianMs: number | null;
  changeFailureRate: number | null;
  recoveryMedianMs: number | null;
}

export interface Bands {
  source: string;
  values: KeyValues;
  deploymentFrequency: Band | null;
  leadTime: Band | null;
  changeFailureRate: Band | null;
  recoveryTime: Band | null;
}

const HOUR_MS = 60 * 60 * 1000;
const pick = (below: (cut: number) => boolean, cuts: [number, number, number]): Band =>
  below(cuts[0]) ? 'elite' : below(cuts[1]) ? 'high' : below(cuts[2]) ? 'medium' : 'low';
const under = (v: number | null, cuts: [number, number, number]) =>
  v === null ? null : pick((c) => v < c, cuts);
const atMost = (v: number | null, cuts: [number, number, number]) =>
  v === null ? null : pick((c) => v <= c, cuts);

export function bandFor(values: KeyValues): Bands {
  const f = values.deploymentsPerDay;
  return {
    source: BANDS_SOURCE,
    values,
    // On demand (≥ 1/day), ≥ 1/week, ≥ 1/month, less.
    deploymentFrequency:
      f === null ? null : f >= 1 ? 'elite' : f >= 1 / 7 ? 'high' : f >= 1 / 30 ? 'medium' : 'low',
    leadTime: under(values.leadTimeMedianMs, [DAY_MS, 7 * DAY_MS, 30 * DAY_MS]),
    changeFailureRate: atMost(values.changeFailureRate, [0.05, 0.1, 0.15]),
    recoveryTime: under(values.recoveryMedianMs, [HOUR_MS, DAY_MS, 7 * DAY_MS]),
  };
}
