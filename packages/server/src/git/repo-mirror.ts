import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { InvalidInput } from '../errors.js';
import { GitError, type GitOutput, runGit } from './git-cli.js';
import {
  COMMIT_FORMAT,
  type CommitInfo,
  parseCommits,
  parseTags,
  TAG_FORMAT,
  type TagInfo,
} from './git-log-format.js';
import { AmbiguousRef, RepoUnreadable, UnknownRef } from './ref-errors.js';

export type { CommitInfo, TagInfo } from './git-log-format.js';
export { AmbiguousRef, RepoUnreadable, UnknownRef } from './ref-errors.js';

const MAX_COMMITS = 1000;
const NETWORK_TIMEOUT_MS = 10 * 60_000;

/** Per mirror path, so that clones and fetches of one mirror never overlap inside this process. */
const chains = new Map<string, Promise<unknown>>();
/** Clones of missing mirrors under way in this process, per path (see RepoMirror.present). */
const cloning = new Map<string, Promise<void>>();

function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const run = (chains.get(key) ?? Promise.resolve()).then(fn);
  const tail = run.catch(() => {});
  chains.set(key, tail);
  void tail.then(() => {
    if (chains.get(key) === tail) chains.delete(key);
  });
  return run;
}

/** A bare `--mirror` clone of an app's repository, kept up to date by `fetch()`. */
export class RepoMirror {
  constructor(
    public readonly path: string,
    public readonly url: string,
    public readonly branch: string,
  ) {}

  ensure(): Promise<void> {
    return serialized(resolvePath(this.path), async () => {
      if (await exists(join(this.path, 'HEAD'))) {
        const current = await this.git(['config', '--get', 'remote.origin.url']).then(
          (r) => r.stdout.trim(),
          () => '',
        );
        if (current !== remoteUrl(this.url))
          await this.git(['config', 'remote.origin.url', remoteUrl(this.url)]);
        return;
      }
      await this.cloneFresh();
    });
  }

  /** A bare clone of the repository at this mirror's path, made next to it and renamed into place. */
  private async cloneFresh(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    // Clone next to the target and rename, so a crash mid-clone never leaves a half mirror behind.
    const tmp = `${this.path}.cloning-${randomBytes(4).toString('hex')}`;
    try {
      await runGit(['clone', '--mirror', '--quiet', '--', remoteUrl(this.url), tmp], {
        timeoutMs: NETWORK_TIMEOUT_MS,
      });
      await rename(tmp, this.path).catch(async (e: unknown) => {
        // Another server process sharing this data dir finished its clone first: keep that one.
        if (!existsSync(join(this.path, 'HEAD'))) throw e;
      });
    } catch (error) {
      if (error instanceof GitError) throw new RepoUnreadable(this.url, gitReason(error));
      throw error;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /**
   * Makes the mirror when it is missing: on a server that did not add the app (several servers on
   * one database each keep their own mirrors) or after its data dir was replaced.
   */
  private async present(): Promise<void> {
    if (existsSync(join(this.path, 'HEAD'))) return;
    const key = resolvePath(this.path);
    let pending = cloning.get(key);
    if (!pending) {
      pending = this.cloneFresh().finally(() => cloning.delete(key));
      cloning.set(key, pending);
    }
    await pending;
  }

  async fetch(): Promise<void> {
    await serialized(resolvePath(this.path), () =>
      this.git(
        [
          'fetch',
          '--prune',
          '--force',
          '--quiet',
          'origin',
          '+refs/heads/*:refs/heads/*',
          '+refs/tags/*:refs/tags/*',
        ],
        NETWORK_TIMEOUT_MS,
      ),
    );
  }

  headOf(ref: string = this.branch): Promise<string | null> {
    return this.verify(`${ref.startsWith('refs/') ? ref : `refs/heads/${ref}`}^{commit}`);
  }

  /** The commit a ref names; fetches once first when this mirror does not know it (it may be behind). */
  async resolve(ref: string): Promise<string> {
    try {
      return await this.resolveHere(ref);
    } catch (error) {
      if (!(error instanceof UnknownRef)) throw error;
      // The remote cannot be read: the ref is unknown here, and that is the answer.
      await this.fetch().catch(() => {
        throw error;
      });
      return this.resolveHere(ref);
    }
  }

  private async resolveHere(ref: string): Promise<string> {
    const expr = checkRev(ref, this.url).replace(/^HEAD(?=$|[~^@])/, `refs/heads/${this.branch}`);
    try {
      const { stdout } = await this.git(['rev-parse', '--verify', '--end-of-options', `${expr}^{commit}`]);
      return stdout.trim();
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      if (/short (object ID|SHA1) \S+ is ambiguous/.test(error.stderr)) throw new AmbiguousRef(ref, this.url);
      if (error.stderr.includes('Needed a single revision')) throw new UnknownRef(ref, this.url);
      throw error;
    }
  }

  /** Commits reachable from `newSha` but not from `oldSha`, oldest first; the newest MAX_COMMITS at most. */
  async newCommits(oldSha: string | null, newSha: string): Promise<CommitInfo[]> {
    const revs = [checkRev(newSha, this.url)];
    if (oldSha && (await this.verify(`${checkRev(oldSha, this.url)}^{commit}`))) revs.push(`^${oldSha}`);
    const format = `--format=${COMMIT_FORMAT}`;
    const args = ['log', '-z', '--reverse', '--topo-order', `--max-count=${MAX_COMMITS}`, format];
    const { stdout } = await this.knownRevs([newSha], () =>
      this.git([...args, '--end-of-options', ...revs, '--']),
    );
    return parseCommits(stdout);
  }

  async isAncestor(a: string, b: string): Promise<boolean> {
    const args = ['merge-base', '--is-ancestor', checkRev(a, this.url), checkRev(b, this.url)];
    return this.knownRevs([a, b], () =>
      this.git(args).then(
        () => true,
        (error: unknown) => {
          if (error instanceof GitError && error.exitCode === 1) return false;
          throw error;
        },
      ),
    );
  }

  /** After a force push: the commits the old head had that the new one does not, oldest first. */
  async droppedCommits(oldSha: string, newSha: string): Promise<string[]> {
    const revs = [checkRev(oldSha, this.url), `^${checkRev(newSha, this.url)}`];
    const args = ['rev-list', '--reverse', '--topo-order', `--max-count=${MAX_COMMITS}`, '--end-of-options'];
    const { stdout } = await this.knownRevs([oldSha, newSha], () => this.git([...args, ...revs, '--']));
    return stdout.split('\n').filter(Boolean);
  }

  /** The file's text at that commit, or null when the commit has no such file. */
  async readFile(sha: string, path: string): Promise<string | null> {
    const spec = `${checkRev(sha, this.url)}:${cleanPath(path)}`;
    return this.knownRevs([sha], () =>
      this.git(['cat-file', 'blob', spec]).then(
        (r) => r.stdout,
        async (error: unknown) => {
          const commitKnown = error instanceof GitError && (await this.verify(`${sha}^{commit}`));
          if (commitKnown && !(await this.verify(spec))) return null;
          throw error;
        },
      ),
    );
  }

  /**
   * A clean, detached checkout of exactly `sha` in `dir` (created; must not hold anything).
   *
   * Registering a worktree and fetching must not overlap: `git worktree add` first writes the new
   * worktree's HEAD as the null id (a placeholder until the checkout), `git worktree remove` deletes
   * it file by file, and the connectivity check of `git fetch` (like gc) walks the HEADs of every
   * registered worktree, so it failed with `bad object worktrees/<id>/HEAD`; two worktree commands
   * at once also fail on each other's half-written entries. So the registration runs under the
   * mirror's lock, as fetch does, and only that: the checkout (and the deletion of a build's files)
   * happen outside it, in the worktree's own index and folder.
   */
  async addWorktree(sha: string, dir: string): Promise<void> {
    const abs = resolvePath(dir);
    const rev = checkRev(sha, this.url);
    await this.knownRevs([sha], () =>
      serialized(resolvePath(this.path), () =>
        this.git(['worktree', 'add', '--detach', '--force', '--no-checkout', '--quiet', abs, rev]),
      ),
    );
    await runGit(['reset', '--hard', '--quiet'], { cwd: abs });
  }

  async removeWorktree(dir: string): Promise<void> {
    const abs = resolvePath(dir);
    // Without its folder the entry is stale: `prune` drops it (an entry being added is locked, and skipped).
    await rm(abs, { recursive: true, force: true, maxRetries: 3 });
    await serialized(resolvePath(this.path), () => this.git(['worktree', 'prune']));
  }

  /** sha256 over the blob ids of those `paths` that exist at `sha`; null when none does. Keys the build cache. */
  async lockFileHash(sha: string, paths: string[]): Promise<string | null> {
    const files = [...new Set(paths.map(cleanPath))].sort();
    if (files.some((f) => f.includes('\n')))
      throw new InvalidInput('lock file paths cannot contain newlines');
    const commit = checkRev(sha, this.url);
    const input = [`${commit}^{commit}`, ...files.map((f) => `${commit}:${f}`)].join('\n');
    const { stdout } = await this.git(
      ['cat-file', '--batch-check=%(objectname) %(objecttype)'],
      undefined,
      input,
    );
    const [head, ...lines] = stdout.split('\n');
    if (!head?.endsWith(' commit')) throw new UnknownRef(sha, this.url);
    const hash = createHash('sha256');
    let found = 0;
    files.forEach((file, i) => {
      const [oid, type] = (lines[i] ?? '').split(' ');
      if (type !== 'blob') return;
      hash.update(`${file}\0${oid}\n`);
      found++;
    });
    return found ? hash.digest('hex') : null;
  }

  /** Tags matching a `git tag -l` glob (where `*` also matches `/`), oldest first. */
  async tags(pattern = '*'): Promise<TagInfo[]> {
    const { stdout } = await this.git([
      'tag',
      '-l',
      '--sort=creatordate',
      `--format=${TAG_FORMAT}`,
      '--',
      pattern,
    ]);
    return parseTags(stdout);
  }

  /** Runs `fn`; when git fails, reports the first of `revs` that is not a known commit as UnknownRef. */
  /**
   * Runs `fn`; when it fails on a revision this mirror does not have, fetches once (another server
   * may have seen the commit first: each keeps its own mirror) and runs it again, then says which
   * revision is unknown.
   */
  private async knownRevs<T>(revs: string[], fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      const missing = await this.missing(revs);
      if (!missing) throw error;
      await this.fetch().catch(() => {
        throw new UnknownRef(missing, this.url);
      });
      const still = await this.missing(revs);
      if (still) throw new UnknownRef(still, this.url);
      return fn();
    }
  }

  private async missing(revs: string[]): Promise<string | undefined> {
    for (const rev of revs) {
      if (!(await this.verify(`${checkRev(rev, this.url)}^{commit}`))) return rev;
    }
    return undefined;
  }

  /** SHA of a revision expression, or null when it does not resolve. */
  private async verify(expr: string): Promise<string | null> {
    try {
      return (await this.git(['rev-parse', '--verify', '--quiet', '--end-of-options', expr])).stdout.trim();
    } catch (error) {
      if (error instanceof GitError && error.exitCode === 1) return null;
      throw error;
    }
  }

  /**
   * Creates an annotated tag on `sha` in the mirror and pushes it to the app's repository, so that
   * git records the intent (a deploy tag) before anything happens.
   */
  async createAndPushTag(
    name: string,
    sha: string,
    message: string,
    tagger: { name: string; email: string },
  ) {
    await serialized(resolvePath(this.path), async () => {
      await this.present();
      await runGit(['tag', '-a', '-m', message, '--end-of-options', name, sha], {
        cwd: this.path,
        env: {
          GIT_COMMITTER_NAME: tagger.name,
          GIT_COMMITTER_EMAIL: tagger.email,
        },
      });
      try {
        // To the URL, not the remote: a --mirror remote would push (and prune) every ref.
        await this.git(
          ['push', '--quiet', remoteUrl(this.url), `refs/tags/${name}:refs/tags/${name}`],
          NETWORK_TIMEOUT_MS,
        );
      } catch (error) {
        await this.git(['tag', '-d', name]).catch(() => undefined);
        throw error;
      }
    });
  }

  /** Takes back a tag `createAndPushTag` pushed: deletes it on the remote, then here. */
  async deleteTag(name: string): Promise<void> {
    await serialized(resolvePath(this.path), async () => {
      await this.git(['push', '--quiet', remoteUrl(this.url), `:refs/tags/${name}`], NETWORK_TIMEOUT_MS);
      await this.git(['tag', '-d', name]).catch(() => undefined);
    });
  }

  /**
   * Pushes a commit this mirror holds (made in one of its worktrees) to a branch of the app's
   * repository, never forced: a branch that moved meanwhile refuses it (`moved: true`).
   */
  async pushCommit(
    sha: string,
    branch: string,
  ): Promise<{ ok: true } | { ok: false; moved: boolean; why: string }> {
    const rev = checkRev(sha, this.url);
    try {
      await this.git(
        ['push', '--quiet', '--porcelain', remoteUrl(this.url), `${rev}:refs/heads/${branch}`],
        NETWORK_TIMEOUT_MS,
      );
      return { ok: true };
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      const text = `${error.stdout}\n${error.stderr}`;
      const moved =
        /non-fast-forward|fetch first|\[rejected\]/.test(text) &&
        !/pre-receive hook declined|\[remote rejected\]/.test(text);
      return { ok: false, moved, why: pushReason(error) };
    }
  }

  /** The newest commit on `ref` whose message has the line `line` (a trailer), or null. */
  async findCommitWithLine(ref: string, line: string): Promise<string | null> {
    const rev = checkRev(ref, this.url);
    const pattern = `^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
    const { stdout } = await this.git([
      'log',
      '--format=%H',
      '-n1',
      `--grep=${pattern}`,
      '--end-of-options',
      rev,
      '--',
    ]).catch(() => ({ stdout: '' }));
    return stdout.trim() || null;
  }

  private async git(args: string[], timeoutMs?: number, input?: string): Promise<GitOutput> {
    await this.present();
    return runGit(args, { cwd: this.path, timeoutMs, input });
  }
}

function checkRev(rev: string, url: string): string {
  if (!rev || rev.startsWith('-') || /[\s\0]/.test(rev)) throw new UnknownRef(rev, url);
  return rev;
}

/** Relative local paths are made absolute, as git itself does on clone, so later comparisons hold. */
function remoteUrl(url: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/]*:/.test(url) ? url : resolvePath(url);
}

function cleanPath(path: string): string {
  return path.replace(/^(\.?\/)+/, '');
}

function gitReason(error: GitError): string {
  const lines = error.stderr.split('\n').map((l) => l.trim());
  const fatal = lines.filter((l) => /^(fatal|error): /.test(l)).map((l) => l.replace(/^(fatal|error): /, ''));
  const reason = (fatal.length ? fatal.join('; ') : lines.filter(Boolean).pop()) ?? error.message;
  return reason.replace(/\.$/, '');
}

/** What the receiving side said (its hooks print `remote: …` lines), then git's own reason. */
function pushReason(error: GitError): string {
  const remote = error.stderr
    .split('\n')
    .filter((l) => l.startsWith('remote: '))
    .map((l) => l.slice('remote: '.length).trim())
    .filter(Boolean);
  const reason = gitReason(error);
  const text = remote.length ? `${remote.join('; ')} (${reason})` : reason;
  return text.replace(/\/\/[^/@\s]*@/g, '//');
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
