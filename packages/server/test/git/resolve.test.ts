import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGit } from '../../src/git/git-cli.js';
import { AmbiguousRef, RepoMirror, UnknownRef } from '../../src/git/repo-mirror.js';
import { cleanupAll, createBareRepo, createWorkClone, git, makeTempDir } from '../support/git-fixtures.js';

afterAll(cleanupAll);

describe('RepoMirror.resolve', () => {
  let mirror: RepoMirror;
  let url: string;
  const shas: string[] = [];

  beforeAll(async () => {
    const bare = await createBareRepo();
    url = bare.url;
    const work = await createWorkClone(bare.url);
    for (const n of [1, 2, 3, 4]) shas.push(await work.commit(`commit ${n}`));
    await work.tag('v1', { message: 'annotated' });
    await work.tag('light', {});
    await work.run(['tag', 'old', shas[0]!]);
    await work.run(['branch', 'feature', shas[1]!]);
    await work.run(['push', '--quiet', 'origin', 'main', 'feature', '--tags']);
    mirror = new RepoMirror(join(await makeTempDir(), 'm.git'), bare.url, 'main');
    await mirror.ensure();
  });

  it('resolves SHAs, branches, tags and expressions to full commit SHAs', async () => {
    const [c1, c2, c3, c4] = shas as [string, string, string, string];
    expect(await mirror.resolve(c3)).toBe(c3);
    expect(await mirror.resolve(c3.slice(0, 8))).toBe(c3);
    expect(await mirror.resolve('v1')).toBe(c4); // annotated: peeled to the commit, not the tag object
    expect(await mirror.resolve('refs/tags/v1')).toBe(c4);
    expect(await mirror.resolve('light')).toBe(c4);
    expect(await mirror.resolve('old')).toBe(c1);
    expect(await mirror.resolve('main')).toBe(c4);
    expect(await mirror.resolve('feature')).toBe(c2);
    expect(await mirror.resolve('HEAD')).toBe(c4);
    expect(await mirror.resolve('HEAD~2')).toBe(c2);
    expect(await mirror.resolve('HEAD^')).toBe(c3);
    expect(await mirror.resolve('main~1')).toBe(c3);
    expect(await mirror.resolve('v1~3')).toBe(c1);
  });

  it('rejects unknown refs with a message that says what to do', async () => {
    for (const ref of ['nope', 'main~10', 'a'.repeat(40), '--output=/tmp/x', '']) {
      const error = await mirror.resolve(ref).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnknownRef);
      expect((error as Error).message).toBe(
        `unknown ref "${ref}" in ${url}: not a commit, branch or tag. Push it first or check the spelling.`,
      );
    }
  });

  it('reports an ambiguous short SHA', async () => {
    // 1000 commits, deterministic content: some pairs share their first 4 hex digits.
    const bare = await createBareRepo();
    let stream = '';
    for (let i = 0; i < 1000; i++) {
      const msg = `c${i}\n`;
      stream += `commit refs/heads/main\nmark :${i + 1}\ncommitter T <t@e> ${1_700_000_000 + i} +0000\n`;
      stream += `data ${msg.length}\n${msg}${i ? `from :${i}\n` : ''}\n`;
    }
    await runGit(['fast-import', '--quiet'], { cwd: bare.dir, input: stream });
    const m = new RepoMirror(join(await makeTempDir(), 'm.git'), bare.url, 'main');
    await m.ensure();
    const all = (await git(['rev-list', 'main'], m.path)).stdout.split('\n').filter(Boolean);
    const seen = new Set<string>();
    const prefix = all.map((s) => s.slice(0, 4)).find((p) => seen.has(p) || !seen.add(p));
    expect(prefix).toBeDefined();
    await expect(m.resolve(prefix!)).rejects.toBeInstanceOf(AmbiguousRef);
    await expect(m.resolve(prefix!)).rejects.toThrow(/is ambiguous in .*Use more characters of the SHA\./);
  });
});
