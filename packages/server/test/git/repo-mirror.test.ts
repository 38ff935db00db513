import { readdir } from 'node:fs/promises';
import { join, relative as relativePath } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RepoMirror, RepoUnreadable, UnknownRef } from '../../src/git/repo-mirror.js';
import { cleanupAll, createBareRepo, createWorkClone, git, makeTempDir } from '../support/git-fixtures.js';

afterAll(cleanupAll);

async function setup() {
  const bare = await createBareRepo();
  const work = await createWorkClone(bare.url);
  const mirror = new RepoMirror(join(await makeTempDir(), 'mirrors', 'app.git'), bare.url, 'main');
  return { bare, work, mirror };
}

describe('RepoMirror ensure and fetch', () => {
  it('clones an empty repository, then sees pushed commits after fetch', async () => {
    const { work, mirror } = await setup();
    await mirror.ensure();
    expect(await mirror.headOf()).toBeNull();

    const first = await work.commit('first');
    await work.push();
    await mirror.ensure(); // already there: does nothing
    expect(await mirror.headOf()).toBeNull();
    await mirror.fetch();
    expect(await mirror.headOf()).toBe(first);
    expect(await mirror.headOf('no-such-branch')).toBeNull();

    const second = await work.commit('second');
    await work.push();
    await mirror.fetch();
    expect(await mirror.headOf('main')).toBe(second);
  });

  it('explains a URL that is not a git repository and leaves nothing behind', async () => {
    const parent = await makeTempDir();
    const missing = join(parent, 'nope.git');
    const mirror = new RepoMirror(join(parent, 'mirrors', 'm.git'), missing, 'main');
    const error = await mirror.ensure().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RepoUnreadable);
    expect((error as Error).message).toBe(
      `could not read repository "${missing}": repository '${missing}' does not exist. Check the URL or path and that you can clone it.`,
    );
    expect(await readdir(join(parent, 'mirrors'))).toEqual([]);
  });

  it('accepts a file:// URL and a relative path, and follows a changed URL', async () => {
    const { bare, work, mirror } = await setup();
    const sha = await work.commit('one');
    await work.push();
    const viaFile = new RepoMirror(mirror.path, `file://${bare.dir}`, 'main');
    await viaFile.ensure();
    expect(await viaFile.headOf()).toBe(sha);
    const relative = new RepoMirror(mirror.path, relativePath(process.cwd(), bare.dir), 'main');
    await relative.ensure(); // now points at the same repository by path
    const again = await work.commit('two');
    await work.push();
    await relative.fetch();
    expect(await relative.headOf()).toBe(again);
    expect((await git(['config', 'remote.origin.url'], mirror.path)).stdout.trim()).toBe(bare.dir);
  });

  it('hides credentials in the URL from the error', async () => {
    const mirror = new RepoMirror(
      join(await makeTempDir(), 'm.git'),
      'http://bob:s3cret@127.0.0.1:1/x.git',
      'main',
    );
    await expect(mirror.ensure()).rejects.toThrow(
      /^could not read repository "http:\/\/\*\*\*@127\.0\.0\.1:1\/x\.git": /,
    );
  });

  it('serializes concurrent ensure and fetch calls on one mirror', async () => {
    const { work, mirror } = await setup();
    await work.commit('one');
    await work.push();
    await Promise.all([mirror.ensure(), mirror.ensure(), mirror.ensure()]);
    const head = await work.commit('two');
    await work.run(['tag', 'v1']);
    await work.push('main');
    await work.push('v1');
    await Promise.all(Array.from({ length: 6 }, () => mirror.fetch()));
    expect(await mirror.headOf()).toBe(head);
  });
});

describe('RepoMirror commits', () => {
  it('lists the commits of a push oldest first with their metadata', async () => {
    const { work, mirror } = await setup();
    const base = await work.commit('base');
    await work.push();
    await mirror.ensure();

    await work.write('a.txt', 'a');
    const a = await work.commit('Add a\n\nWith a body.\n', {
      date: '2024-03-01T10:00:00+02:00',
      author: 'Ada Lovelace <ada@example.com>',
    });
    await work.write('b.txt', 'b');
    const b = await work.commit('Add b', { date: '2024-03-02T10:00:00Z' });
    const c = await work.commit('Add c', { date: '2024-03-03T10:00:00Z' });
    await work.push();
    await mirror.fetch();

    const commits = await mirror.newCommits(base, c);
    expect(commits.map((x) => x.sha)).toEqual([a, b, c]);
    expect(commits[0]).toEqual({
      sha: a,
      parents: [base],
      authorName: 'Ada Lovelace',
      authorEmail: 'ada@example.com',
      authoredAt: '2024-03-01T08:00:00.000Z',
      committedAt: '2024-03-01T08:00:00.000Z',
      message: 'Add a\n\nWith a body.',
    });
    expect(commits[1]).toMatchObject({
      parents: [a],
      authorName: 'Test User',
      authorEmail: 'test@example.com',
    });
    expect(commits[2]?.authoredAt).toBe('2024-03-03T10:00:00.000Z');

    expect((await mirror.newCommits(null, c)).map((x) => x.sha)).toEqual([base, a, b, c]);
    expect(await mirror.newCommits('0'.repeat(40), c)).toHaveLength(4);
    expect(await mirror.newCommits(c, c)).toEqual([]);
  });

  it('gives a merge commit two parents and lists parents before children', async () => {
    const { work, mirror } = await setup();
    const base = await work.commit('base');
    await work.push();
    await mirror.ensure();
    await work.run(['switch', '--quiet', '-c', 'feature']);
    await work.write('f.txt', 'f');
    const feature = await work.commit('feature work');
    await work.run(['switch', '--quiet', 'main']);
    await work.write('m.txt', 'm');
    const onMain = await work.commit('main work');
    await work.run(['merge', '--quiet', '--no-ff', '-m', 'Merge feature', 'feature']);
    const merge = (await work.run(['rev-parse', 'HEAD'])).stdout.trim();
    await work.push();
    await mirror.fetch();

    const commits = await mirror.newCommits(base, merge);
    expect(commits).toHaveLength(3);
    expect(commits[2]).toMatchObject({ sha: merge, parents: [onMain, feature], message: 'Merge feature' });
    expect(
      commits
        .slice(0, 2)
        .map((x) => x.sha)
        .sort(),
    ).toEqual([feature, onMain].sort());
  });

  it('detects a force push and the commits it dropped', async () => {
    const { work, mirror } = await setup();
    const a = await work.commit('a');
    const b = await work.commit('b');
    const b2 = await work.commit('b2');
    await work.push();
    await mirror.ensure();
    expect(await mirror.headOf()).toBe(b2);

    await work.run(['reset', '--quiet', '--hard', a]);
    const c = await work.commit('c');
    await work.push('main', { force: true });
    await mirror.fetch();

    expect(await mirror.headOf()).toBe(c);
    expect(await mirror.isAncestor(b2, c)).toBe(false);
    expect(await mirror.isAncestor(a, c)).toBe(true);
    expect(await mirror.droppedCommits(b2, c)).toEqual([b, b2]);
    expect((await mirror.newCommits(b2, c)).map((x) => x.sha)).toEqual([c]);

    const unknown = 'c'.repeat(40);
    await expect(mirror.isAncestor(unknown, c)).rejects.toBeInstanceOf(UnknownRef);
    await expect(mirror.droppedCommits(b2, unknown)).rejects.toBeInstanceOf(UnknownRef);
    await expect(mirror.newCommits(null, unknown)).rejects.toThrow(`unknown ref "${unknown}"`);
  });
});

describe('RepoMirror files and tags', () => {
  it('reads a file at a commit, null when absent', async () => {
    const { work, mirror } = await setup();
    await work.write('gantry.yaml', 'app: shop\n');
    await work.write('src/x.ts', 'export {};\n');
    const sha = await work.commit('config');
    await work.push();
    await mirror.ensure();
    expect(await mirror.readFile(sha, 'gantry.yaml')).toBe('app: shop\n');
    expect(await mirror.readFile(sha, './src/x.ts')).toBe('export {};\n');
    expect(await mirror.readFile(sha, 'missing.yaml')).toBeNull();
    await expect(mirror.readFile(sha, 'src')).rejects.toThrow(/git cat-file blob/);
    await expect(mirror.readFile('f'.repeat(40), 'gantry.yaml')).rejects.toBeInstanceOf(UnknownRef);
  });

  it('hashes lock files so the hash changes only when a lock file does', async () => {
    const { work, mirror } = await setup();
    const none = await work.commit('no lock file yet');
    await work.write('package-lock.json', '{"v":1}');
    const one = await work.commit('lock');
    await work.write('README.md', 'hi');
    const readme = await work.commit('readme');
    await work.write('package-lock.json', '{"v":2}');
    const changed = await work.commit('bump');
    await work.push();
    await mirror.ensure();

    const paths = ['package-lock.json', 'yarn.lock'];
    expect(await mirror.lockFileHash(none, paths)).toBeNull();
    const h1 = await mirror.lockFileHash(one, paths);
    expect(h1).toMatch(/^[0-9a-f]{64}$/);
    expect(await mirror.lockFileHash(readme, paths)).toBe(h1);
    expect(await mirror.lockFileHash(readme, [...paths].reverse())).toBe(h1);
    expect(await mirror.lockFileHash(changed, paths)).not.toBe(h1);
    await expect(mirror.lockFileHash('e'.repeat(40), paths)).rejects.toBeInstanceOf(UnknownRef);
  });

  it('lists tags by glob, peeled, and follows moved and deleted tags on fetch', async () => {
    const { work, mirror } = await setup();
    const first = await work.commit('first', { date: '2024-01-01T00:00:00Z' });
    await work.tag('deploy/staging/1', { message: 'ship it\n\nto staging' });
    const second = await work.commit('second', { date: '2024-01-02T00:00:00Z' });
    await work.tag('deploy/qa/2');
    await work.tag('v1.0.0');
    await work.run(['push', '--quiet', 'origin', 'main', '--tags']);
    await mirror.ensure();

    const tags = await mirror.tags('deploy/*');
    expect(tags.map((t) => t.name).sort()).toEqual(['deploy/qa/2', 'deploy/staging/1']);
    const staging = tags.find((t) => t.name === 'deploy/staging/1');
    expect(staging).toMatchObject({
      sha: first,
      message: 'ship it\n\nto staging',
      tagger: { name: 'Test User', email: 'test@example.com' },
    });
    expect(staging?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    expect(tags.find((t) => t.name === 'deploy/qa/2')).toEqual({
      name: 'deploy/qa/2',
      sha: second,
      createdAt: '2024-01-02T00:00:00.000Z',
    });
    expect((await mirror.tags()).map((t) => t.name)).toContain('v1.0.0');

    await work.run(['tag', '--force', 'deploy/qa/2', first]);
    await work.push('deploy/qa/2', { force: true });
    await work.run(['push', '--quiet', 'origin', ':refs/tags/v1.0.0']);
    await mirror.fetch();
    expect((await mirror.tags('deploy/qa/*'))[0]?.sha).toBe(first);
    expect(await mirror.tags('v*')).toEqual([]);
  });
});
