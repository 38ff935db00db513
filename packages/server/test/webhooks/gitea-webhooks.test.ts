import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../src/errors.js';
import {
  normaliseRepoUrl,
  parseWebhook,
  verifyGiteaSignature,
} from '../../src/features/webhooks/webhook-parsers.js';

// Shape follows Gitea's webhook documentation for the push event.
const user = {
  id: 1,
  login: 'gitea',
  full_name: 'Gitea',
  email: 'someone@gitea.io',
  avatar_url: 'https://localhost:3000/avatars/1',
  username: 'gitea',
};

const pushPayload = {
  ref: 'refs/heads/develop',
  before: '28e1879d029cb852e4844d9c718537df08844e03',
  after: 'bffeb74224043ba2feb48d137756c8a9331c449a',
  compare_url:
    'http://localhost:3000/gitea/webhooks/compare/28e1879d029cb852e4844d9c718537df08844e03...bffeb74224043ba2feb48d137756c8a9331c449a',
  commits: [
    {
      id: 'bffeb74224043ba2feb48d137756c8a9331c449a',
      message: 'Webhooks Yay!',
      url: 'http://localhost:3000/gitea/webhooks/commit/bffeb74224043ba2feb48d137756c8a9331c449a',
      author: { name: 'Gitea', email: 'someone@gitea.io', username: 'gitea' },
      committer: { name: 'Gitea', email: 'someone@gitea.io', username: 'gitea' },
      timestamp: '2017-03-13T13:52:11-04:00',
    },
  ],
  total_commits: 1,
  repository: {
    id: 140,
    owner: user,
    name: 'webhooks',
    full_name: 'gitea/webhooks',
    description: '',
    private: false,
    fork: false,
    html_url: 'http://localhost:3000/gitea/webhooks',
    ssh_url: 'ssh://gitea@localhost:2222/gitea/webhooks.git',
    clone_url: 'http://localhost:3000/gitea/webhooks.git',
    website: '',
    stars_count: 0,
    forks_count: 1,
    watchers_count: 1,
    open_issues_count: 7,
    default_branch: 'master',
    created_at: '2017-02-26T04:29:06-05:00',
    updated_at: '2017-03-13T13:51:58-04:00',
  },
  pusher: user,
  sender: user,
};

const SECRET = 'gitea-secret';

describe('parseWebhook(gitea)', () => {
  it('parses a push', () => {
    expect(parseWebhook('gitea', { 'x-gitea-event': 'push' }, pushPayload)).toEqual({
      kind: 'push',
      notice: {
        provider: 'gitea',
        ref: 'refs/heads/develop',
        before: '28e1879d029cb852e4844d9c718537df08844e03',
        after: 'bffeb74224043ba2feb48d137756c8a9331c449a',
        repoUrls: [
          'http://localhost:3000/gitea/webhooks.git',
          'ssh://gitea@localhost:2222/gitea/webhooks.git',
          'http://localhost:3000/gitea/webhooks',
        ],
        repoFullName: 'gitea/webhooks',
        pusher: 'gitea',
        deleted: false,
        forced: false,
      },
    });
  });

  it('gives URLs that all normalise to the same repository', () => {
    const result = parseWebhook('gitea', { 'X-Gitea-Event': 'push' }, pushPayload);
    if (result.kind !== 'push') throw new Error('expected push');
    expect(new Set(result.notice.repoUrls.map(normaliseRepoUrl))).toEqual(
      new Set(['localhost/gitea/webhooks']),
    );
  });

  it('reports created and deleted refs', () => {
    const created = parseWebhook(
      'gitea',
      { 'x-gitea-event': 'push' },
      { ...pushPayload, before: '0'.repeat(40) },
    );
    expect(created).toMatchObject({ notice: { before: null, deleted: false } });
    const deleted = parseWebhook(
      'gitea',
      { 'x-gitea-event': 'push' },
      { ...pushPayload, after: '0'.repeat(40) },
    );
    expect(deleted).toMatchObject({ notice: { after: null, deleted: true } });
  });

  it('ignores other events and rejects bad input', () => {
    expect(parseWebhook('gitea', { 'x-gitea-event': 'create' }, {})).toMatchObject({ kind: 'ignored' });
    expect(() => parseWebhook('gitea', {}, pushPayload)).toThrow(/X-Gitea-Event/);
    const { repository: _r, ...noRepository } = pushPayload;
    expect(() => parseWebhook('gitea', { 'x-gitea-event': 'push' }, noRepository)).toThrow(InvalidInput);
    expect(() => parseWebhook('gitea', { 'x-gitea-event': 'push' }, noRepository)).toThrow(/repository/);
  });
});

describe('verifyGiteaSignature', () => {
  const raw = Buffer.from(JSON.stringify(pushPayload));
  const hex = createHmac('sha256', SECRET).update(raw).digest('hex');

  it('accepts X-Gitea-Signature and X-Hub-Signature-256 forms', () => {
    expect(verifyGiteaSignature(raw, hex, SECRET)).toBe(true);
    expect(verifyGiteaSignature(raw, `sha256=${hex}`, SECRET)).toBe(true);
  });

  it('rejects wrong secrets, tampered bodies and malformed headers', () => {
    expect(verifyGiteaSignature(raw, hex, 'other')).toBe(false);
    expect(verifyGiteaSignature(Buffer.from(`${raw.toString()} `), hex, SECRET)).toBe(false);
    expect(verifyGiteaSignature(raw, undefined, SECRET)).toBe(false);
    expect(verifyGiteaSignature(raw, '', SECRET)).toBe(false);
    expect(verifyGiteaSignature(raw, hex.slice(1), SECRET)).toBe(false);
    expect(verifyGiteaSignature(raw, `sha1=${hex}`, SECRET)).toBe(false);
    expect(verifyGiteaSignature(raw, createHmac('sha256', '').update(raw).digest('hex'), '')).toBe(false);
  });
});
