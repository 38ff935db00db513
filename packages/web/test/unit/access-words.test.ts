import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/client';
import { principalWords, scopeWords } from '../../src/components/account-words';
import {
  approvedByWords,
  type Decision,
  decisionProblem,
  decisionWords,
  expiryWords,
  fromWords,
  progressWords,
  refusalWords,
  shortDigest,
} from '../../src/pages/approvals/approval-words';
import {
  bindingWords,
  parseGroups,
  personBindingWords,
  subjectOf,
  tokenState,
  whenWords,
} from '../../src/pages/people/people-words';
import { retryAfterSeconds, signInFailure, waitWords } from '../../src/pages/sign-in/sign-in-words';

const decision = (d: Partial<Decision>): Decision => ({
  approver: 'user:alice',
  verdict: 'approved',
  comment: null,
  createdAt: '2026-05-03T10:00:00Z',
  counts: true,
  why: null,
  ...d,
});

describe('sign-in words', () => {
  it('shows the server message for a wrong password, and for too many failures when to try again', () => {
    expect(signInFailure(new ApiError(401, 'wrong login or password'))).toBe('wrong login or password');
    const now = Date.parse('2026-05-03T10:00:00Z');
    const words = signInFailure(new ApiError(429, 'too many', { retryAfterS: 125 }), now);
    expect(words).toMatch(/^Too many failed sign-ins\. Try again at .+ \(in 3 min\)\.$/);
    expect(words).toContain(
      new Date(now + 125_000).toLocaleTimeString([], {
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      }),
    );
    expect(signInFailure(new ApiError(429, 'too many failed sign-ins'))).toBe(
      'too many failed sign-ins. Wait a while before trying again.',
    );
    expect(signInFailure(new Error('offline'))).toBe('offline');
  });

  it('reads retryAfterS only when it is a positive number, and says a wait in words', () => {
    expect(retryAfterSeconds({ retryAfterS: 4.2 })).toBe(5);
    expect(retryAfterSeconds({ retryAfterS: 0 })).toBeUndefined();
    expect(retryAfterSeconds({ retryAfterS: '9' })).toBeUndefined();
    expect(retryAfterSeconds(null)).toBeUndefined();
    expect(waitWords(42)).toBe('42 s');
    expect(waitWords(60)).toBe('1 min');
    expect(waitWords(900)).toBe('15 min');
    expect(waitWords(3600)).toBe('1 h');
    expect(waitWords(3900)).toBe('1 h 5 min');
  });
});

describe('the account menu', () => {
  it('names a person or a token with its role and where its roles bind', () => {
    expect(scopeWords({ app: null, env: null })).toBe('every app');
    expect(scopeWords({ app: 'shop', env: null })).toBe('every environment of shop');
    expect(scopeWords({ app: 'shop', env: 'production' })).toBe('shop production');
    expect(
      principalWords({
        kind: 'user',
        name: 'alice',
        role: 'user',
        groups: ['ops'],
        bindings: [{ role: 'deployer', app: 'shop', env: 'production' }],
      }),
    ).toEqual({ kind: 'person', role: null, bindings: ['deployer on shop production'] });
    expect(principalWords({ kind: 'token', name: 'ci', role: 'admin', groups: [], bindings: [] })).toEqual({
      kind: 'token',
      role: 'admin',
      bindings: [],
    });
  });
});

describe('approval words', () => {
  it('says how far a request got, from whom, and who approved (counting ones only)', () => {
    expect(progressWords(1, 2)).toBe('1 of 2 approvals');
    expect(progressWords(0, 1)).toBe('0 of 1 approval');
    expect(fromWords(['group:ops', 'alice'])).toBe('group:ops, alice');
    expect(fromWords([])).toBe('anyone with deployments:write');
    expect(approvedByWords([])).toBe('nobody yet');
    expect(
      approvedByWords([
        decision({ approver: 'user:alice' }),
        decision({ approver: 'user:bob', counts: false, why: 'expired' }),
        decision({ approver: 'user:carol', verdict: 'rejected', counts: false }),
      ]),
    ).toBe('user:alice');
  });

  it('writes each decision with its comment and why it no longer counts', () => {
    expect(decisionWords(decision({ comment: 'checked the diff' }))).toBe(
      'user:alice approved: “checked the diff”',
    );
    expect(decisionWords(decision({ counts: false, why: 'given on another digest' }))).toBe(
      'user:alice approved (does not count: given on another digest)',
    );
    expect(decisionWords(decision({ verdict: 'rejected', counts: false, comment: 'not now' }))).toBe(
      'user:alice rejected: “not now”',
    );
  });

  it('says when a request expires, or that it does not', () => {
    const now = Date.parse('2026-05-03T10:00:00Z');
    expect(expiryWords(null, now)).toBe('does not expire');
    expect(expiryWords('2026-05-03T15:30:00Z', now)).toMatch(/^expires .+ \(in 5h 30m\)$/);
    expect(expiryWords('2026-05-05T11:00:00Z', now)).toMatch(/\(in 2d 1h\)$/);
    expect(expiryWords('2026-05-03T09:59:00Z', now)).toMatch(/^expired .+ \(1m ago\)$/);
  });

  it('shortens a digest, refuses a rejection without a comment, and words the server refusals', () => {
    const digest = `sha256:${'4f1c'.repeat(16)}`;
    expect(shortDigest(digest)).toBe('sha256:4f1c4f1c…4f1c');
    expect(shortDigest('sha256:abc')).toBe('sha256:abc');
    expect(decisionProblem('reject', '  ')).toBe('A rejection needs a comment saying why.');
    expect(decisionProblem('reject', 'not before the sale')).toBeNull();
    expect(decisionProblem('approve', '')).toBeNull();
    expect(
      refusalWords(new ApiError(403, 'token:alice asked for deployment d1 and may not approve it')),
    ).toBe('Refused: token:alice asked for deployment d1 and may not approve it');
    expect(refusalWords(new ApiError(409, 'deployment d1 no longer waits'))).toBe(
      'Not possible now: deployment d1 no longer waits',
    );
    expect(refusalWords(new ApiError(400, 'comment required'))).toBe('comment required');
  });
});

describe('people words', () => {
  it('parses groups and role-binding subjects as an admin types them', () => {
    expect(parseGroups(' ops, release-leads ops\nqa ')).toEqual(['ops', 'release-leads', 'qa']);
    expect(parseGroups('')).toEqual([]);
    expect(subjectOf('alice')).toBe('user:alice');
    expect(subjectOf('user:alice')).toBe('user:alice');
    expect(subjectOf(' group:ops ')).toBe('group:ops');
    expect(subjectOf('token:ci')).toBeNull();
    expect(subjectOf('  ')).toBeNull();
  });

  it('words bindings, the ones that come through a group, and token states', () => {
    expect(bindingWords({ role: 'admin', app: null, env: null })).toBe('admin on every app');
    expect(bindingWords({ role: 'viewer', app: 'shop', env: null })).toBe(
      'viewer on every environment of shop',
    );
    const b = { subject: 'group:ops', role: 'deployer', app: 'shop', env: 'production' };
    expect(personBindingWords('alice', b)).toBe('deployer on shop production (through group:ops)');
    expect(personBindingWords('alice', { ...b, subject: 'user:alice' })).toBe('deployer on shop production');
    expect(whenWords(null, 'never')).toBe('never');
    const now = Date.parse('2026-05-03T10:00:00Z');
    expect(tokenState({ revokedAt: null, expiresAt: null }, now)).toBe('active');
    expect(tokenState({ revokedAt: null, expiresAt: '2026-05-03T09:00:00Z' }, now)).toBe('expired');
    expect(tokenState({ revokedAt: '2026-05-01T00:00:00Z', expiresAt: null }, now)).toBe('revoked');
  });
});
