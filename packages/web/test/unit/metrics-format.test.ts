import { describe, expect, it } from 'vitest';
import {
  bandLabel,
  bandTone,
  bucketFor,
  bucketName,
  customRange,
  daysPerWeek,
  duration,
  lastDays,
  percent,
  rate,
} from '../../src/pages/metrics/metrics-format';

const DAY = 86_400_000;

describe('the metrics page formats numbers as gantry metrics and the HTML report do', () => {
  it('writes durations, shares, rates and deployment days', () => {
    expect([350, 4_200, 59_999, 180_000, 5.1 * 3_600_000, 2.3 * DAY].map(duration)).toEqual([
      '350 ms',
      '4.2 s',
      '1 min',
      '3 min',
      '5.1 h',
      '2.3 d',
    ]);
    expect(duration(null)).toBe('—');
    expect([0.25, 1 / 3, 0, null].map(percent)).toEqual(['25%', '33.3%', '0%', '—']);
    expect([2.5, 1, 0.19, 12.4].map(rate)).toEqual(['2.5/day', '1/day', '1.3/week', '12/day']);
    expect([3, 1, 2.5, null].map(daysPerWeek)).toEqual(['3 days/week', '1 day/week', '2.5 days/week', '—']);
    expect(bucketName('2026-01-05T00:00:00.000Z', 'week')).toBe('week of 2026-01-05');
    expect(bucketName('2026-01-01T00:00:00.000Z', 'month')).toBe('2026-01');
  });

  it('names bands in words, with a tone that is never the only signal', () => {
    expect([null, 'elite', 'low'].map(bandLabel)).toEqual(['No band', 'Elite', 'Low']);
    expect(['elite', 'high', 'medium', 'low', null].map(bandTone)).toEqual([
      'ok',
      'info',
      'warn',
      'bad',
      'neutral',
    ]);
  });

  it('makes windows of whole UTC days, today included, that stay the same all day', () => {
    const morning = Date.parse('2026-03-10T01:00:00Z');
    const evening = Date.parse('2026-03-10T23:59:00Z');
    expect(lastDays(7, morning)).toEqual({
      from: '2026-03-04T00:00:00.000Z',
      to: '2026-03-11T00:00:00.000Z',
      bucket: 'day',
    });
    expect(lastDays(7, evening)).toEqual(lastDays(7, morning));
    expect(lastDays(90, morning).bucket).toBe('week');
    expect(lastDays(365, morning).bucket).toBe('month');
    expect(customRange('2026-01-01', '2026-01-01')).toEqual({
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-01-02T00:00:00.000Z',
      bucket: 'day',
    });
    expect(customRange('2026-02-01', '2026-01-01')).toBeNull();
    expect(customRange('', '2026-01-01')).toBeNull();
    expect(bucketFor(0, 31 * DAY)).toBe('day');
    expect(bucketFor(0, 32 * DAY)).toBe('week');
  });
});
