import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../src/errors.js';
import { parseWebhook, verifyGitlabToken } from '../../src/features/webhooks/webhook-parsers.js';

// Shapes follow GitLab's "Webhook events" documentation.
const project = {
  id: 15,
  name: 'Diaspora',
  description: '',
  web_url: 'http://example.com/mike/diaspora',
  avatar_url: null,
  git_ssh_url: 'git@example.com:mike/diaspora.git',
  git_http_url: 'http://example.com/mike/diaspora.git',
  namespace: 'Mike',
  visibility_level: 0,
  path_with_namespace: 'mike/diaspora',
  default_branch: 'master',
  ci_config_path: '',
  homepage: 'http://example.com/mike/diaspora',
  url: 'git@example.com:mike/diaspora.git',
  ssh_url: 'git@example.com:mike/diaspora.git',
  http_url: 'http://example.com/mike/diaspora.git',
};

const repository = {
  name: 'Diaspora',
  url: 'git@example.com:mike/diaspora.git',
  description: '',
  homepage: 'http://example.com/mike/diaspora',
  git_http_url: 'http://example.com/mike/diaspora.git',
  git_ssh_url: 'git@example.com:mike/diaspora.git',
  visibility_level: 0,
};

const pushHook = {
  object_kind: 'push',
  event_name: 'push',
  before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
  after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
  ref: 'refs/heads/master',
  ref_protected: true,
  checkout_sha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
  message: 'Hello World',
  user_id: 4,
  user_name: 'John Smith',
  user_username: 'jsmith',
  user_email: 'john@example.com',
  user_avatar: 'https://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=80',
  project_id: 15,
  project,
  commits: [
    {
      id: 'b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327',
      message:
        'Update Catalan translation to e38cb41.\n\nSee https://gitlab.com/gitlab-org/gitlab for more information',
      title: 'Update Catalan translation to e38cb41.',
      timestamp: '2011-12-12T14:27:31+02:00',
      url: 'http://example.com/mike/diaspora/commit/b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327',
      author: { name: 'Jordi Mallach', email: 'jordi@softcatala.org' },
      added: ['CHANGELOG'],
      modified: ['app/controller/application.rb'],
      removed: [],
    },
    {
      id: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      message: 'fixed readme',
      title: 'fixed readme',
      timestamp: '2012-01-03T23:36:29+02:00',
      url: 'http://example.com/mike/diaspora/commit/da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      author: { name: 'GitLab dev user', email: 'gitlabdev@dv6700.(none)' },
      added: ['CHANGELOG'],
      modified: ['app/controller/application.rb'],
      removed: [],
    },
  ],
  total_commits_count: 4,
  repository,
};

const tagPushHook = {
  object_kind: 'tag_push',
  event_name: 'tag_push',
  before: '0000000000000000000000000000000000000000',
  after: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7',
  ref: 'refs/tags/v1.0.0',
  ref_protected: true,
  checkout_sha: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7',
  message: 'Tag message',
  user_id: 1,
  user_name: 'John Smith',
  user_username: 'jsmith',
  user_avatar: 'https://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=80',
  project_id: 15,
  project,
  commits: [],
  total_commits_count: 0,
  repository,
};

const headers = (event: string) => ({ 'x-gitlab-event': event, 'x-gitlab-token': 's3cret' });

describe('parseWebhook(gitlab)', () => {
  it('parses a Push Hook', () => {
    expect(parseWebhook('gitlab', headers('Push Hook'), pushHook)).toEqual({
      kind: 'push',
      notice: {
        provider: 'gitlab',
        ref: 'refs/heads/master',
        before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
        after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
        repoUrls: [
          'http://example.com/mike/diaspora.git',
          'git@example.com:mike/diaspora.git',
          'http://example.com/mike/diaspora',
        ],
        repoFullName: 'mike/diaspora',
        pusher: 'jsmith',
        deleted: false,
        forced: false,
      },
    });
  });

  it('parses a Tag Push Hook for a new tag', () => {
    const result = parseWebhook('gitlab', headers('Tag Push Hook'), tagPushHook);
    expect(result).toMatchObject({
      kind: 'push',
      notice: { ref: 'refs/tags/v1.0.0', before: null, after: tagPushHook.after, deleted: false },
    });
  });

  it('reports a branch deletion', () => {
    const deletion = {
      ...pushHook,
      after: '0'.repeat(40),
      checkout_sha: null,
      commits: [],
      total_commits_count: 0,
    };
    const result = parseWebhook('gitlab', headers('Push Hook'), deletion);
    expect(result).toMatchObject({ kind: 'push', notice: { after: null, deleted: true } });
  });

  it('accepts push and tag_push System Hooks and ignores the rest', () => {
    expect(parseWebhook('gitlab', headers('System Hook'), pushHook).kind).toBe('push');
    expect(parseWebhook('gitlab', headers('System Hook'), tagPushHook).kind).toBe('push');
    expect(parseWebhook('gitlab', headers('System Hook'), { object_kind: 'merge_request' })).toMatchObject({
      kind: 'ignored',
    });
    expect(parseWebhook('gitlab', headers('System Hook'), { event_name: 'project_create' }).kind).toBe(
      'ignored',
    );
  });

  it('ignores other events', () => {
    expect(parseWebhook('gitlab', headers('Merge Request Hook'), {})).toMatchObject({ kind: 'ignored' });
  });

  it('falls back to the legacy repository object', () => {
    const { project: _omitted, ...legacy } = pushHook;
    const result = parseWebhook('gitlab', headers('Push Hook'), legacy);
    expect(result).toMatchObject({
      kind: 'push',
      notice: { repoUrls: [repository.git_http_url, repository.git_ssh_url, repository.homepage] },
    });
  });

  it('throws InvalidInput naming what is missing', () => {
    const { project: _p, repository: _r, ...noUrls } = pushHook;
    expect(() => parseWebhook('gitlab', headers('Push Hook'), noUrls)).toThrow(/project\.git_http_url/);
    const { after: _a, ...noAfter } = pushHook;
    expect(() => parseWebhook('gitlab', headers('Push Hook'), noAfter)).toThrow(InvalidInput);
    expect(() => parseWebhook('gitlab', headers('Push Hook'), noAfter)).toThrow(/\bafter\b/);
    expect(() => parseWebhook('gitlab', {}, pushHook)).toThrow(/X-Gitlab-Event/);
  });
});

describe('verifyGitlabToken', () => {
  it('accepts the configured secret only', () => {
    expect(verifyGitlabToken('s3cret', 's3cret')).toBe(true);
    expect(verifyGitlabToken('s3cret!', 's3cret')).toBe(false);
    expect(verifyGitlabToken('S3CRET', 's3cret')).toBe(false);
    expect(verifyGitlabToken('', 's3cret')).toBe(false);
    expect(verifyGitlabToken(undefined, 's3cret')).toBe(false);
    expect(verifyGitlabToken('', '')).toBe(false);
  });
});
