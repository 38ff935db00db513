import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../src/errors.js';
import { normaliseRepoUrl } from '../../src/features/webhooks/webhook-parsers.js';

describe('normaliseRepoUrl', () => {
  it.each([
    ['https://github.com/o/r.git', 'github.com/o/r'],
    ['https://github.com/o/r', 'github.com/o/r'],
    ['https://github.com/o/r/', 'github.com/o/r'],
    ['https://github.com/o/r.git/', 'github.com/o/r'],
    ['git@github.com:o/r.git', 'github.com/o/r'],
    ['github.com:o/r', 'github.com/o/r'],
    ['ssh://git@github.com/o/r.git', 'github.com/o/r'],
    ['ssh://git@github.com:22/o/r.git', 'github.com/o/r'],
    ['git+ssh://git@github.com/o/r.git', 'github.com/o/r'],
    ['git://github.com/o/r.git', 'github.com/o/r'],
    ['HTTPS://GitHub.COM/Owner/Repo.git', 'github.com/Owner/Repo'],
    ['git@GitHub.com:Owner/Repo.GIT', 'github.com/Owner/Repo'],
    ['https://user:tok%40en@github.com/o/r.git', 'github.com/o/r'],
    ['https://oauth2:glpat-xyz@gitlab.example.com/group/sub/proj.git', 'gitlab.example.com/group/sub/proj'],
    ['http://localhost:3000/gitea/webhooks.git', 'localhost/gitea/webhooks'],
    ['ssh://gitea@localhost:2222/gitea/webhooks.git', 'localhost/gitea/webhooks'],
    ['https://github.com/o/r.git?ref=main#readme', 'github.com/o/r'],
    ['https://github.com//o//r.git', 'github.com/o/r'],
    ['https://example.com/o/my%20repo.git', 'example.com/o/my repo'],
    ['http://[::1]:8080/o/r.git', '[::1]/o/r'],
    ['  https://github.com/o/r.git  ', 'github.com/o/r'],
    ['/srv/git/app.git', '/srv/git/app.git'],
    ['/srv/git/app/', '/srv/git/app'],
    ['/srv/git/./app/../app', '/srv/git/app'],
    ['file:///srv/git/app.git', '/srv/git/app.git'],
    ['file://localhost/srv/git/app/', '/srv/git/app'],
    ['./repos/app', resolve('repos/app')],
    ['repos/app', resolve('repos/app')],
    ['~/repos/app', resolve(homedir(), 'repos/app')],
  ])('%s → %s', (input, expected) => {
    expect(normaliseRepoUrl(input)).toBe(expected);
  });

  it('makes an app URL match the payload URLs', () => {
    const registered = normaliseRepoUrl('https://github.com/Codertocat/Hello-World.git');
    for (const url of [
      'git@github.com:Codertocat/Hello-World.git',
      'git://github.com/Codertocat/Hello-World.git',
      'https://github.com/Codertocat/Hello-World',
    ]) {
      expect(normaliseRepoUrl(url)).toBe(registered);
    }
  });

  it('rejects empty input', () => {
    expect(() => normaliseRepoUrl('  ')).toThrow(InvalidInput);
    expect(() => normaliseRepoUrl('file://')).toThrow(InvalidInput);
  });
});
