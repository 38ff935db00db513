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
  push(ref?: string, opts?: { force?: boolean }): Promise<GitOutput>;
  tag(name: string, opts?: { message?: string }): Promise<void>;
  run(args: string[]): Promise<GitOutput>;
}

export async function createWorkClone(bareUrl: string): Promise<WorkClone> {
  const dir = join(await makeTempDir('gantry-work-'), 'work');
  await git(['clone', '--quiet', bareUrl, dir]);
  const run = (args: string[], env?: Record<string, string>) => git(args, dir, env);
  return {
    dir,
    run: (args) => run(args),
    async write(path, content) {
      const file = join(dir, path);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, content);
    },
    async commit(message, opts = {}) {
      const env: Record<string, string> = opts.date
        ? { GIT_AUTHOR_DATE: opts.date, GIT_COMMITTER_DATE: opts.date }
        : {};
      await run(['add', '--all']);
      const author = opts.author ? [`--author=${opts.author}`] : [];
      await run(['commit', '--quiet', '--allow-empty', '--no-verify', '-m', message, ...author], env);
      return (await run(['rev-parse', 'HEAD'])).stdout.trim();
    },
    push(ref = 'main', opts = {}) {
      return run(['push', ...(opts.force ? ['--force'] : []), 'origin', ref]);
    },
    async tag(name, opts = {}) {
      await run(['tag', ...(opts.message === undefined ? [] : ['-a', '-m', opts.message]), name]);
    },
  };
}
