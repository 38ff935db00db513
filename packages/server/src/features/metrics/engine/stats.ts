export interface Summary {
  n: number;
  median: number | null;
  p90: number | null;
  p95: number | null;
  max: number | null;
}

/** Linear interpolation between closest ranks, so an even-n median is the mean of the two middle values. */
export function quantile(sorted: ArrayLike<number>, q: number): number | null {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const a = sorted[lo]!;
  const b = sorted[Math.ceil(pos)]!;
  return a + (b - a) * (pos - lo);
}

export function summarizeSorted(sorted: ArrayLike<number>): Summary {
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p95: quantile(sorted, 0.95),
    max: sorted.length ? sorted[sorted.length - 1]! : null,
  };
}

export function summarize(values: ArrayLike<number>): Summary {
  return summarizeSorted(Float64Array.from(values).sort());
}

export function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}
