import { describe, expect, it } from 'vitest';
import { commitCount, promotionOrder } from '../../src/pages/board/promotion-order';
import { phaseRows, phaseWords, sloText, sloVerdict } from '../../src/pages/deployments/phase-words';

describe('promotionOrder', () => {
  it('puts each environment after the one it promotes from, whatever order it came in', () => {
    const envs = [
      { env: 'production', promoteFrom: 'staging' },
      { env: 'qa', promoteFrom: null },
      { env: 'preview', promoteFrom: null },
      { env: 'staging', promoteFrom: 'qa' },
    ];
    expect(promotionOrder(envs).map((e) => e.env)).toEqual(['qa', 'preview', 'staging', 'production']);
  });

  it('keeps a cycle or an unknown upstream in place instead of looping', () => {
    const envs = [
      { env: 'a', promoteFrom: 'b' },
      { env: 'b', promoteFrom: 'a' },
      { env: 'c', promoteFrom: 'gone' },
    ];
    expect(promotionOrder(envs).map((e) => e.env)).toEqual(['c', 'a', 'b']);
  });

  it('counts commits in words', () => {
    expect(commitCount(1)).toBe('1 commit');
    expect(commitCount(3)).toBe('3 commits');
  });
});

describe('deployment phases', () => {
  const phases = [
    { name: 'unpack', startedAt: '2026-01-01T00:00:00.000Z', ms: 120 },
    { name: 'health', startedAt: '2026-01-01T00:00:00.120Z', ms: null },
  ];

  it('times a running last phase up to now, and a finished one up to the end', () => {
    const now = Date.parse('2026-01-01T00:00:01.120Z');
    const running = phaseRows(phases, { status: 'running', finishedAt: null }, now);
    expect(running[1]).toMatchObject({ ms: 1000, running: true });
    const done = phaseRows(phases, { status: 'failed', finishedAt: '2026-01-01T00:00:00.620Z' }, now);
    expect(done[1]).toMatchObject({ ms: 500, running: false });
    expect(done[0]).toMatchObject({ ms: 120, running: false });
  });

  it('names phases in words and judges the rollback SLO only when both are known', () => {
    expect(phaseWords('switch')).toBe('Switch traffic');
    expect(phaseWords('custom')).toBe('custom');
    expect(sloVerdict(900, 60_000)).toBe('within');
    expect(sloVerdict(61_000, 60_000)).toBe('over');
    expect(sloVerdict(null, 60_000)).toBeNull();
    expect(sloVerdict(900, null)).toBeNull();
    expect(sloText(60_000)).toBe('1 min');
    expect(sloText(90_000)).toBe('90 s');
  });
});
