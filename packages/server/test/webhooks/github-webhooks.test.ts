import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../src/errors.js';
import {
  normaliseRepoUrl,
  parseWebhook,
  verifyGithubSignature,
} from '../../src/features/webhooks/webhook-parsers.js';
import { githubExamples } from './github-examples.js';

type GithubPush = {
  ref: string;
  before: string;
  after: string;
  deleted: boolean;
  forced: boolean;
  repository: { clone_url: string; ssh_url: string; html_url: string; full_name: string };
  pusher: { name: string };
};

const ZERO = '0'.repeat(40);
const SECRET = 'It’s a Secret to Everybody';
const sign = (body: string | Buffer, secret = SECRET) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const pushExamples = githubExamples('push');

describe('GitHub push examples from @octokit/webhooks-examples', () => {
  it('finds the examples', () => {
    expect(pushExamples.length).toBeGreaterThanOrEqual(7);
    expect(pushExamples.some((e) => e.payload.deleted === true)).toBe(true);
    expect(pushExamples.some((e) => e.payload.deleted === false)).toBe(true);
  });

  it.each(pushExamples.map((e) => [`${e.source} #${e.index}`, e.payload] as const))(
    'parses %s',
    (_name, payload) => {
      const push = payload as unknown as GithubPush;
      const result = parseWebhook('github', { 'x-github-event': 'push' }, payload);
      if (result.kind !== 'push') throw new Error(`expected push, got ${result.kind}`);
      const { notice } = result;
      expect(notice.provider).toBe('github');
      expect(notice.ref).toBe(push.ref);
      expect(notice.before).toBe(push.before === ZERO ? null : push.before);
      expect(notice.after).toBe(push.after === ZERO ? null : push.after);
      expect(notice.deleted).toBe(push.deleted);
      expect(notice.forced).toBe(push.forced);
      expect(notice.after === null).toBe(push.deleted);
      expect(notice.repoFullName).toBe(push.repository.full_name);
      expect(notice.pusher).toBe(push.pusher.name);
      expect(notice.repoUrls).toEqual(
        expect.arrayContaining([
          push.repository.clone_url,
          push.repository.ssh_url,
          push.repository.html_url,
        ]),
      );
      expect(new Set(notice.repoUrls.map(normaliseRepoUrl)).size).toBe(1);
    },
  );

  it.each(pushExamples.map((e) => [`${e.source} #${e.index}`, e.payload] as const))(
    'verifies the signature of %s',
    (_name, payload) => {
      const body = JSON.stringify(payload);
      const raw = Buffer.from(body);
      const header = sign(raw);
      expect(verifyGithubSignature(raw, header, SECRET)).toBe(true);
      expect(verifyGithubSignature(body, header, SECRET)).toBe(true);
      expect(verifyGithubSignature(raw, header, 'wrong secret')).toBe(false);
      expect(verifyGithubSignature(Buffer.from(body.replace('refs/', 'refs/x')), header, SECRET)).toBe(false);
      // Only the exact bytes count: the same JSON re-serialised does not verify.
      expect(verifyGithubSignature(Buffer.from(JSON.stringify(payload, null, 2)), header, SECRET)).toBe(
        false,
      );
      expect(verifyGithubSignature(raw, undefined, SECRET)).toBe(false);
    },
  );
});

describe('verifyGithubSignature', () => {
  const body = Buffer.from('{"zen":"Keep it logically awesome."}');
  const hex = createHmac('sha256', SECRET).update(body).digest('hex');

  it.each([
    ['empty', ''],
    ['no prefix', hex],
    ['sha1 prefix', `sha1=${hex}`],
    ['truncated', `sha256=${hex.slice(0, -2)}`],
    ['too long', `sha256=${hex}00`],
    ['not hex', `sha256=${'z'.repeat(64)}`],
    ['surrounding junk', ` sha256=${hex} `],
    ['prefix only', 'sha256='],
  ])('rejects a malformed header (%s)', (_name, header) => {
    expect(verifyGithubSignature(body, header, SECRET)).toBe(false);
  });

  it('never verifies with an empty secret', () => {
    expect(verifyGithubSignature(body, sign(body, ''), '')).toBe(false);
  });
});

describe('parseWebhook(github) for other events', () => {
  it.each(githubExamples('ping').map((e) => [`${e.source} #${e.index}`, e.payload] as const))(
    'reports ping %s',
    (_name, payload) => {
      expect(parseWebhook('github', { 'X-GitHub-Event': 'ping' }, payload)).toEqual({ kind: 'ping' });
    },
  );

  it('ignores an issues event', () => {
    const [issues] = githubExamples('issues');
    const result = parseWebhook('github', { 'x-github-event': ['issues'] }, issues?.payload);
    expect(result.kind).toBe('ignored');
    if (result.kind === 'ignored') expect(result.reason).toContain('issues');
  });

  it('throws InvalidInput without an event header', () => {
    expect(() => parseWebhook('github', {}, {})).toThrow(InvalidInput);
    expect(() => parseWebhook('github', {}, {})).toThrow(/X-GitHub-Event/);
  });

  it('throws InvalidInput naming missing push fields', () => {
    const [example] = pushExamples;
    const payload = structuredClone(example?.payload) as Record<string, unknown>;
    delete payload.ref;
    (payload.repository as Record<string, unknown>).clone_url = undefined;
    const parse = () => parseWebhook('github', { 'x-github-event': 'push' }, payload);
    expect(parse).toThrow(InvalidInput);
    expect(parse).toThrow(/\bref\b/);
    expect(parse).toThrow(/repository\.clone_url/);
    expect(() => parseWebhook('github', { 'x-github-event': 'push' }, 'not json')).toThrow(InvalidInput);
  });

  it('treats an all-zero after as a deletion when the deleted flag is absent', () => {
    const [example] = pushExamples;
    const payload = { ...example?.payload, after: ZERO, deleted: undefined, forced: undefined };
    const result = parseWebhook('github', { 'x-github-event': 'push' }, payload);
    expect(result).toMatchObject({ kind: 'push', notice: { after: null, deleted: true, forced: false } });
  });
});
