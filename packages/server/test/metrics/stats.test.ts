import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/features/metrics/engine/index.js';
import { summarizeInPlace } from '../../src/features/metrics/engine/stats.js';
import { rng } from './fixtures.js';

describe('summaries', () => {
  it('interpolates: the median of an even count is the mean of the two middle values', () => {
    const s = summarize([4, 1, 3, 2]);
    expect(s).toMatchObject({ n: 4, median: 2.5, max: 4 });
    expect(s.p90).toBeCloseTo(3.7, 12);
    expect(s.p95).toBeCloseTo(3.85, 12);
    expect(summarize([])).toEqual({ n: 0, median: null, p90: null, p95: null, max: null });
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: selection gives exactly what sorting gives', (seed) => {
    const r = rng(seed);
    const n = 1 + Math.floor(r() * 3000);
    // Many ties as well as spread values, and sorted or reversed runs now and then.
    const values = Array.from({ length: n }, () => (r() < 0.3 ? Math.floor(r() * 5) : Math.floor(r() * 1e7)));
    if (seed % 3 === 0) values.sort((a, b) => a - b);
    if (seed % 4 === 0) values.sort((a, b) => b - a);
    expect(summarizeInPlace(Float64Array.from(values))).toEqual(summarize(values));
  });
});
