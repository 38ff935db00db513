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

/** Moves the k-th smallest of a[lo..hi] to a[k], smaller ones before it, larger after (Hoare). */
function select(a: Float64Array, k: number, lo: number, hi: number): void {
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // Median of three as the pivot keeps sorted and reversed input linear.
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/**
 * The same Summary as `summarize`, in linear time: selects the ranks the quantiles need instead of
 * sorting (a year of lead times is a million values). Reorders `values`.
 */
export function summarizeInPlace(values: Float64Array): Summary {
  const n = values.length;
  if (n === 0) return { n: 0, median: null, p90: null, p95: null, max: null };
  const ranks = [
    ...new Set([0.5, 0.9, 0.95].flatMap((q) => [Math.floor((n - 1) * q), Math.ceil((n - 1) * q)])),
  ].sort((a, b) => a - b);
  let lo = 0;
  for (const k of ranks) {
    select(values, k, lo, n - 1);
    lo = k;
  }
  let max = values[0]!;
  for (let i = 1; i < n; i++) if (values[i]! > max) max = values[i]!;
  const at = (q: number) => {
    const pos = (n - 1) * q;
    const a = values[Math.floor(pos)]!;
    return a + (values[Math.ceil(pos)]! - a) * (pos - Math.floor(pos));
  };
  return { n, median: at(0.5), p90: at(0.9), p95: at(0.95), max };
}
