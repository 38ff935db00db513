import { DAY_MS } from './time.js';

export type Band = 'elite' | 'high' | 'medium' | 'low';

/**
 * Convention: cut-offs read from the DORA 2023 State of DevOps Report clusters. Where that year's
 * clusters overlap (medium and low share ranges), the boundary between them is our choice.
 */
export const BANDS_SOURCE = 'DORA 2023 State of DevOps Report clusters (convention)';

export interface KeyValues {
  /** The raw rate, shown beside the band; the band is read from deployment days (below). */
  deploymentsPerDay: number | null;
  /** Median number of days with a deployment of a new change in the window's whole weeks. */
  deploymentDaysPerWeek: number | null;
  /** Median number of such days in the window's whole 4-week periods (or in all its whole weeks). */
  deploymentDaysPerMonth: number | null;
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

/**
 * DORA asks "how often does your organization deploy code to production?": on demand (daily or more),
 * between once a day and once a week, between once a week and once a month, less. Read from deployment
 * days as the Four Keys dashboards do: the typical (median) week has a deployment day on every working
 * day (5), or on at least one day; else the typical 4-week period has at least one. A rollback is not a
 * deployment day: it ships nothing new.
 */
function frequencyBand(perWeek: number | null, perMonth: number | null): Band | null {
  if (perWeek === null) return null;
  if (perWeek >= 5) return 'elite';
  if (perWeek >= 1) return 'high';
  return perMonth !== null && perMonth >= 1 ? 'medium' : 'low';
}

export function bandFor(values: KeyValues): Bands {
  return {
    source: BANDS_SOURCE,
    values,
    deploymentFrequency: frequencyBand(values.deploymentDaysPerWeek, values.deploymentDaysPerMonth),
    leadTime: under(values.leadTimeMedianMs, [DAY_MS, 7 * DAY_MS, 30 * DAY_MS]),
    changeFailureRate: atMost(values.changeFailureRate, [0.05, 0.1, 0.15]),
    recoveryTime: under(values.recoveryMedianMs, [HOUR_MS, DAY_MS, 7 * DAY_MS]),
  };
}
