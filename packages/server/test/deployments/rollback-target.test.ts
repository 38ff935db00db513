import type { Deployment } from '@gantry/contracts';
import { describe, expect, it } from 'vitest';
import { rollbackTarget } from '../../src/features/deployments/rollback-target.js';

let n = 0;
/** A finished deployment of `sha`; each one ends a minute after the one before. */
function dep(sha: string, status: Deployment['status'], more: Partial<Deployment> = {}): Deployment {
  n += 1;
  const at = new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString();
  return {
    id: `dep_${String(n).padStart(4, '0')}`,
    appId: 'app_1',
    app: 'shop',
    env: 'production',
    sha,
    previousSha: null,
    artifactId: null,
    digest: null,
    trigger: 'cli',
    actor: 'ann',
    reason: null,
    tag: null,
    forced: false,
    remediates: null,
    status,
    kind: null,
    verification: null,
    phases: [],
    error: null,
    requestedAt: at,
    startedAt: at,
    finishedAt: at,
    ...more,
  };
}

describe('rollbackTarget', () => {
  it('skips a release that failed after it once ran healthy, and one that is held', () => {
    const history = [
      dep('a', 'succeeded'),
      dep('b', 'succeeded'),
      dep('c', 'succeeded'),
      dep('b', 'failed'),
      dep('d', 'succeeded'),
      dep('e', 'succeeded'),
    ];
    const choice = rollbackTarget(history, 'e', 'production', { heldSha: 'd' });
    expect(choice.to).toBe('c');
    expect(choice.skipped.map((s) => s.sha)).toEqual(['d']);
    expect(choice.skipped[0]!.why).toBe('is held after a rollback');
    const further = rollbackTarget([...history, dep('c', 'failed')], 'e', 'production', { heldSha: 'd' });
    expect(further.to).toBe('a');
    expect(further.skipped.map((s) => [s.sha, s.why.split(' ')[0]])).toEqual([
      ['d', 'is'],
      ['c', 'failed'],
      ['b', 'failed'],
    ]);
  });

  it('a release rolled back from counts again once it is deployed healthy after', () => {
    const history = [
      dep('a', 'succeeded'),
      dep('b', 'succeeded'),
      dep('a', 'succeeded', { trigger: 'rollback', previousSha: 'b' }),
      dep('b', 'succeeded'),
      dep('c', 'succeeded'),
    ];
    expect(rollbackTarget(history, 'c', 'production').to).toBe('b');
    const named = rollbackTarget(history.slice(0, 3), 'a', 'production', { toSha: 'b' });
    expect(named).toMatchObject({
      to: 'b',
      why: expect.stringContaining('named with --to, although b was rolled back from by'),
    });
    expect(rollbackTarget(history.slice(0, 3), 'a', 'production').to).toBeNull();
  });
});
