import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const GIT_ID = [
  '-c',
  'user.name=Gantry Demo',
  '-c',
  'user.email=demo@gantry.local',
  '-c',
  'init.defaultBranch=main',
  '-c',
  'commit.gpgSign=false',
  '-c',
  'tag.gpgSign=false',
];
// The demo's own repositories must not depend on the machine's git config (signing, hooks, templates).
const GIT_ENV = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };

/** Runs git and returns what it printed, stdout and stderr (where push reports the hook's output). */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout, stderr } = await run('git', [...GIT_ID, ...args], { cwd, env: GIT_ENV });
  return `${stdout}${stderr}`.trim();
}

/** Writes the files, commits everything and returns the new commit's SHA. */
export async function commitFiles(work: string, files: Record<string, string>, message: string) {
  for (const [name, content] of Object.entries(files)) await writeFile(join(work, name), content);
  await git(work, 'add', '-A');
  await git(work, 'commit', '--quiet', '-m', message);
  return git(work, 'rev-parse', 'HEAD');
}

export interface Pushed {
  output: string;
  /** Date.now() when `git push` returned; the post-receive hook has notified Gantry by then. */
  returnedAt: number;
}

export async function push(work: string, ref: string): Promise<Pushed> {
  const output = await git(work, 'push', 'origin', ref);
  return { output, returnedAt: Date.now() };
}
