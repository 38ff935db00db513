import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type GitOutput, runGit } from '../../src/git/git-cli.js';

/** Test repos must not depend on the machine's git config (signing, hooks, default branch …). */
const ISOLATED_ENV = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
const IDENTITY = [
  '-c',
  'user.name=Test User',
  '-c',
  'user.email=test@example.com',
  '-c',
  'init.defaultBranch=main',
];

/** IDENTITY for every git a shell script runs (git reads `-c` pairs from these too). */
const IDENTITY_ENV: Record<string, string> = {
  GIT_CONFIG_COUNT: '3',
  GIT_CONFIG_KEY_0: 'user.name',
  GIT_CONFIG_VALUE_0: 'Test User',
  GIT_CONFIG_KEY_1: 'user.email',
  GIT_CONFIG_VALUE_1: 'test@example.com',
  GIT_CONFIG_KEY_2: 'init.defaultBranch',
  GIT_CONFIG_VALUE_2: 'main',
};

const tempDirs: string[] = [];

export async function makeTempDir(prefix = 'gantry-git-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export async function cleanupAll(): Promise<void> {
  const dirs = tempDirs.splice(0);
  await Promise.all(
    dirs.map((d) => rm(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })),
  );
}

export function git(args: string[], cwd?: string, env?: Record<string, string>): Promise<GitOutput> {
  return runGit([...IDENTITY, ...args], { cwd, env: { ...ISOLATED_ENV, ...env } });
}

/**
 * Runs `script` (sh, `set -e`, positional arguments `args`) with the same isolated git set-up as
 * `git`; its stdout. Several git commands in one child: each child the test worker forks costs it
 * tens of milliseconds (the worker is large), more than the git commands themselves.
 */
export function gitScript(
  script: string,
  args: string[],
  cwd?: string,
  env?: Record<string, string>,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'sh',
      ['-c', `set -e\n${script}`, 'sh', ...args],
      {
        cwd,
        env: {
          ...process.env,
          GIT_TERMINAL_PROMPT: '0',
          LC_ALL: 'C',
          ...ISOLATED_ENV,
          ...IDENTITY_ENV,
          ...env,
        },
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`git script failed (${error.code}): ${stderr.trim()}\n${script}`));
        else resolve(stdout);
      },
    );
  });
}

/** A bare repo (as createBareRepo) and a clone of it to work in (as createWorkClone), in one child. */
export async function createRepoWithClone(): Promise<{
  bare: { dir: string; url: string };
  work: WorkClone;
}> {
  const bare = join(await makeTempDir('gantry-bare-'), 'repo.git');
  const dir = join(await makeTempDir('gantry-work-'), 'work');
  await gitScript('git init --quiet --bare --initial-branch=main "$1"\ngit clone --quiet "$1" "$2"', [
    bare,
    dir,
  ]);
  return { bare: { dir: bare, url: bare }, work: workClone(dir) };
}

export async function createBareRepo(): Promise<{ dir: string; url: string }> {
  const dir = join(await makeTempDir('gantry-bare-'), 'repo.git');
  await git(['init', '--quiet', '--bare', '--initial-branch=main', dir]);
  return { dir, url: dir };
}

export interface CommitOptions {
  /** Any date git accepts, e.g. `2024-01-02T03:04:05Z`; used as both author and committer date. */
  date?: string;
  /** `Name <email>` */
  author?: string;
}

export interface WorkClone {
  dir: string;
  write(path: string, content: string): Promise<void>;
  commit(message: string, opts?: CommitOptions): Promise<string>;
  /** commit, then push to `ref` of origin (default main), in one child; the new SHA. */
  commitAndPush(message: string, ref?: string): Promise<string>;
  push(ref?: string, opts?: { force?: boolean }): Promise<GitOutput>;
  tag(name: string, opts?: { message?: string }): Promise<void>;
  run(args: string[]): Promise<GitOutput>;
}

export async function createWorkClone(bareUrl: string): Promise<WorkClone> {
  const dir = join(await makeTempDir('gantry-work-'), 'work');
  await git(['clone', '--quiet', bareUrl, dir]);
  return workClone(dir);
}

/** `git add --all`, a commit (even an empty one) and its SHA; then `git push origin "$PUSH"` if set. */
const COMMIT_SCRIPT = `git add --all
git commit --quiet --allow-empty --no-verify "$@"
git rev-parse HEAD
if [ -n "$PUSH" ]; then git push --quiet origin "$PUSH"; fi`;

function workClone(dir: string): WorkClone {
  const run = (args: string[], env?: Record<string, string>) => git(args, dir, env);
  const commit = async (message: string, opts: CommitOptions = {}, push?: string) => {
    const env: Record<string, string> = opts.date
      ? { GIT_AUTHOR_DATE: opts.date, GIT_COMMITTER_DATE: opts.date }
      : {};
    env.PUSH = push ?? '';
    const author = opts.author ? [`--author=${opts.author}`] : [];
    const out = await gitScript(COMMIT_SCRIPT, ['-m', message, ...author], dir, env);
    return out.trim().split('\n')[0]!;
  };
  return {
    dir,
    run: (args) => run(args),
    async write(path, content) {
      const file = join(dir, path);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, content);
    },
    commit: (message, opts) => commit(message, opts),
    commitAndPush: (message, ref = 'main') => commit(message, {}, ref),
    push(ref = 'main', opts = {}) {
      return run(['push', ...(opts.force ? ['--force'] : []), 'origin', ref]);
    },
    async tag(name, opts = {}) {
      await run(['tag', ...(opts.message === undefined ? [] : ['-a', '-m', opts.message]), name]);
    },
  };
}
