import { describe, expect, it } from 'vitest';
import {
  afterChange,
  describeChange,
  describeMove,
  fromLocalInput,
  toLocalInput,
} from '../../src/pages/releases/release-words.js';

const off = { enabled: false, strategies: [], variants: [] };

describe('release changes in words', () => {
  it('says what a change does', () => {
    expect(describeChange({ enabled: true })).toBe('turn on');
    expect(describeChange({ enabled: false, rollout: 25 })).toBe('turn off · roll out to 25% of users');
    expect(describeChange({ strategies: [{ name: 'userWithId', parameters: { userIds: '42' } }] })).toBe(
      'who gets it: Users 42',
    );
    expect(describeChange({})).toBe('no change');
  });

  it('works out the state after a change, as the server does, and says what moves', () => {
    const after = afterChange(
      { enabled: false, strategies: [{ name: 'default' }], variants: [] },
      { enabled: true, rollout: 30 },
    );
    expect(after.enabled).toBe(true);
    expect(after.strategies).toEqual([
      { name: 'flexibleRollout', parameters: { rollout: '30', stickiness: 'default' }, constraints: [] },
    ]);
    expect(describeMove(off, after)).toBe('off → on · Everyone → Gradual rollout 30%');
    expect(describeMove(after, { ...after })).toBe('stays on');
    const again = afterChange(after, { rollout: 60 });
    expect(again.strategies[0]?.parameters?.rollout).toBe('60');
  });

  it('reads a datetime-local value in the local time zone and writes one back', () => {
    const d = new Date(2026, 11, 3, 17, 5, 9);
    expect(toLocalInput(d)).toBe('2026-12-03T17:05:09');
    expect(fromLocalInput('2026-12-03T17:05:09')).toBe(d.toISOString());
    expect(fromLocalInput('2026-12-03T17:05')).toBe(new Date(2026, 11, 3, 17, 5).toISOString());
    expect(fromLocalInput('')).toBeNull();
    expect(fromLocalInput('tomorrow')).toBeNull();
  });
});

describe('times to come', () => {
  it('says how long until', async () => {
    const { untilText } = await import('../../src/components/time-from-now.js');
    const now = Date.parse('2026-12-03T10:00:00Z');
    expect(untilText('2026-12-03T10:00:05Z', now)).toBe('in 5s');
    expect(untilText('2026-12-03T10:30:00Z', now)).toBe('in 30m');
    expect(untilText('2026-12-04T12:00:00Z', now)).toBe('in 1d');
    expect(untilText('2026-12-03T09:00:00Z', now)).toBe('in 0s');
  });
});
