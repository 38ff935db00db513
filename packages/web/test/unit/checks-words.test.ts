import { describe, expect, it } from 'vitest';
import {
  attemptText,
  autoRollbackOf,
  checkFailureOf,
  checkRows,
  failureSentence,
  runningNow,
} from '../../src/pages/deployments/check-words';
import { triggerWords, verificationWords } from '../../src/pages/deployments/verification-words';
import {
  revertActive,
  revertOutcome,
  revertStatusWords,
  stepWords,
} from '../../src/pages/reverts/revert-words';

const run = (name: string, attempt: number, status: 'running' | 'passed' | 'failed' | 'cancelled') => ({
  id: `chk_${name}_${attempt}`,
  name,
  kind: 'run',
  attempt,
  status,
  startedAt: '2026-01-01T00:00:00.000Z',
});

describe('checks in words', () => {
  it('names each verification, with a colour that is never the only signal', () => {
    expect(verificationWords('verifying')).toMatchObject({ label: 'verifying', tone: 'info' });
    expect(verificationWords('verified')).toMatchObject({ label: 'verified', tone: 'ok' });
    expect(verificationWords('check_failed')).toMatchObject({ label: 'check failed', tone: 'bad' });
    expect(verificationWords('superseded').label).toBe('checks superseded');
  });

  it("writes Gantry's own triggers in words and leaves the others as they are", () => {
    expect(triggerWords('auto-rollback')).toBe('rolled back after a failed check');
    expect(triggerWords('bisect')).toBe('bisect');
    expect(triggerWords('tag')).toBe('tag');
  });

  it('counts attempts against the declared retries', () => {
    expect(attemptText(1, 1)).toBe('attempt 1 of 2');
    expect(attemptText(3, 2)).toBe('attempt 3 of 3');
    expect(attemptText(2, null)).toBe('attempt 2');
  });

  it('puts runs under their declared check in order, oldest attempt first, and keeps undeclared ones last', () => {
    const rows = checkRows(
      [
        { name: 'smoke', kind: 'run', retries: 1 },
        { name: 'home', kind: 'http', retries: 0 },
      ],
      [run('smoke', 2, 'failed'), run('gone', 1, 'passed'), run('smoke', 1, 'failed')],
      'check_failed',
    );
    expect(rows.map((r) => [r.name, r.state, r.retries, r.runs.map((x) => x.attempt)])).toEqual([
      ['smoke', 'failed', 1, [1, 2]],
      ['home', 'not run', 0, []],
      ['gone', 'passed', null, [1]],
    ]);
  });

  it('says a check without a run waits while the deployment verifies, and which run is going', () => {
    const rows = checkRows(
      [
        { name: 'smoke', kind: 'run', retries: 1 },
        { name: 'home', kind: 'http', retries: 0 },
      ],
      [run('smoke', 1, 'failed'), run('smoke', 2, 'running')],
      'verifying',
    );
    expect(rows.map((r) => r.state)).toEqual(['running', 'waiting']);
    expect(runningNow(rows)?.run.attempt).toBe(2);
    expect(runningNow(checkRows([], [], 'verified'))).toBeNull();
  });

  it("finds the rollback Gantry made after a deployment's check failed, not an older or unrelated one", () => {
    const failed = {
      id: 'dep_2',
      sha: 'b'.repeat(40),
      trigger: 'auto',
      previousSha: 'a'.repeat(40),
      requestedAt: '2026-01-01T00:01:00Z',
    };
    const history = [
      {
        id: 'dep_5',
        sha: 'a'.repeat(40),
        trigger: 'auto-rollback',
        previousSha: 'b'.repeat(40),
        requestedAt: '2026-01-01T00:05:00Z',
        status: 'succeeded',
      },
      {
        id: 'dep_3',
        sha: 'a'.repeat(40),
        trigger: 'auto-rollback',
        previousSha: 'b'.repeat(40),
        requestedAt: '2026-01-01T00:02:00Z',
        status: 'succeeded',
      },
      {
        id: 'dep_4',
        sha: 'a'.repeat(40),
        trigger: 'rollback',
        previousSha: 'b'.repeat(40),
        requestedAt: '2026-01-01T00:03:00Z',
        status: 'succeeded',
      },
      {
        id: 'dep_0',
        sha: 'a'.repeat(40),
        trigger: 'auto-rollback',
        previousSha: 'b'.repeat(40),
        requestedAt: '2026-01-01T00:00:00Z',
        status: 'succeeded',
      },
      {
        id: 'dep_6',
        sha: 'a'.repeat(40),
        trigger: 'auto-rollback',
        previousSha: 'c'.repeat(40),
        requestedAt: '2026-01-01T00:01:30Z',
        status: 'succeeded',
      },
    ];
    expect(autoRollbackOf(failed, history)?.id).toBe('dep_3');
    expect(autoRollbackOf(failed, history.slice(2, 3))).toBeNull();
  });

  it('says what happened when a check failed, from the event and the rollback', () => {
    const change = { trigger: 'auto' };
    const sha = `1a2b3c4d${'0'.repeat(32)}`;
    expect(
      failureSentence({ check: 'smoke', action: 'rollback' }, change, { sha, status: 'succeeded' }),
    ).toBe('Check smoke failed; rolled back to 1a2b3c4d (auto-rollback).');
    expect(failureSentence({ check: 'smoke', action: 'rollback' }, change, { sha, status: 'running' })).toBe(
      'Check smoke failed; rolling back to 1a2b3c4d (auto-rollback).',
    );
    expect(failureSentence({ check: 'smoke', action: 'rollback' }, change, { sha, status: 'failed' })).toBe(
      'Check smoke failed; the rollback to 1a2b3c4d (auto-rollback) failed.',
    );
    expect(failureSentence({ check: 'smoke', action: 'rollback' }, change, null)).toBe(
      'Check smoke failed; rolling back (auto-rollback).',
    );
    expect(failureSentence({ check: 'p95', action: 'keep' }, change, null)).toBe(
      'Check p95 failed; the release keeps running (on_check_failure: keep).',
    );
    expect(failureSentence({ check: 'smoke', action: 'none' }, { trigger: 'auto-rollback' }, null)).toContain(
      'itself a rollback',
    );
    expect(failureSentence({ check: 'smoke', action: 'none' }, { trigger: 'bisect' }, null)).toContain(
      'bisect step',
    );
    expect(failureSentence({ check: 'smoke', action: null }, change, null)).toBe('Check smoke failed.');
  });

  it("reads the check_failed event's data defensively", () => {
    expect(checkFailureOf({ check: 'smoke', action: 'rollback', error: 'exit 1' })).toEqual({
      check: 'smoke',
      action: 'rollback',
    });
    expect(checkFailureOf({ check: 'smoke', action: 'explode' })).toEqual({ check: 'smoke', action: null });
    expect(checkFailureOf({ action: 'rollback' })).toBeNull();
  });
});

describe('reverts in words', () => {
  it('colours and explains each status, and knows which are still going', () => {
    expect(revertStatusWords('reverted').tone).toBe('ok');
    expect(revertStatusWords('proposed')).toMatchObject({ tone: 'warn' });
    expect(revertStatusWords('failed').tone).toBe('bad');
    expect(revertStatusWords('skipped').text).toContain('on purpose');
    expect(['guarding', 'bisecting', 'reverting', 'reverted', 'skipped'].filter(revertActive)).toEqual([
      'guarding',
      'bisecting',
      'reverting',
    ]);
  });

  it('names the steps, keeping an unknown one as it is', () => {
    expect(stepWords('guard-deploy')).toContain('Environment guard');
    expect(stepWords('blame')).toBe('Blamed');
    expect(stepWords('something-new')).toBe('something-new');
  });

  it('tells a pushed revert from a proposed branch and from none', () => {
    expect(revertOutcome({ revertSha: 'abc', branch: null })).toEqual({ kind: 'commit', sha: 'abc' });
    expect(revertOutcome({ revertSha: 'abc', branch: 'gantry/revert-1a2b3c4d' })).toEqual({
      kind: 'branch',
      sha: 'abc',
      branch: 'gantry/revert-1a2b3c4d',
    });
    expect(revertOutcome({ revertSha: null, branch: null })).toEqual({ kind: 'none' });
  });
});
