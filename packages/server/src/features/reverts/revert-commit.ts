import { rm } from 'node:fs/promises';
import { GitError, runGit } from '../../git/git-cli.js';
import type { RepoMirror } from '../../git/repo-mirror.js';

/** Who Gantry's reverts are by. */
export const GANTRY_GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'Gantry',
  GIT_AUTHOR_EMAIL: 'gantry@localhost',
  GIT_COMMITTER_NAME: 'Gantry',
  GIT_COMMITTER_EMAIL: 'gantry@localhost',
};

export type RevertCommitResult = { ok: true; sha: string } | { ok: false; why: string; conflicts: string[] };

/** A commit message is a revert: git's own wording, or Gantry's trailer. */
export function isRevertMessage(message: string): boolean {
  return (
    /^Gantry-Revert-Of: [0-9a-f]{7,64}$/m.test(message) || /This reverts commit [0-9a-f]{7,64}/.test(message)
  );
}

export function revertMessage(
  blamed: { sha: string; subject: string },
  why: { check: string; env: string; failedSha: string; deploymentId: string },
): string {
  return [
    `Revert "${blamed.subject}"`,
    '',
    `This reverts commit ${blamed.sha}.`,
    '',
    `The check "${why.check}" failed in ${why.env} on ${why.failedSha.slice(0, 12)} (deployment ${why.deploymentId});`,
    'Gantry found this commit to blame and reverted it.',
    '',
    `Gantry-Revert-Of: ${blamed.sha}`,
    `Gantry-Failed-Check: ${why.check}`,
    '',
  ].join('\n');
}

/**
 * Makes `git revert` of `blamed` on top of `onto` in a fresh worktree of the mirror (whose object
 * store then holds the new commit). A revert that does not apply cleanly is aborted and reported
 * with the conflicting files; nothing is left behind.
 */
export async function makeRevertCommit(
  mirror: RepoMirror,
  dir: string,
  onto: string,
  blamed: { sha: string; parents: string[] },
  message: string,
): Promise<RevertCommitResult> {
  await rm(dir, { recursive: true, force: true });
  await mirror.addWorktree(onto, dir);
  const git = (args: string[]) =>
    runGit(['-c', 'commit.gpgsign=false', '-c', 'core.hooksPath=/dev/null', ...args], {
      cwd: dir,
      env: GANTRY_GIT_IDENTITY,
    });
  try {
    // A merge is reverted against its first parent, the branch it was merged into.
    const mainline = blamed.parents.length > 1 ? ['-m', '1'] : [];
    try {
      await git(['revert', '--no-edit', '--no-commit', ...mainline, '--end-of-options', blamed.sha]);
    } catch (e) {
      if (!(e instanceof GitError)) throw e;
      const conflicts = (
        await git(['diff', '--name-only', '--diff-filter=U']).catch(() => ({ stdout: '' }))
      ).stdout
        .split('\n')
        .filter(Boolean);
      await git(['revert', '--abort']).catch(() => undefined);
      return {
        ok: false,
        why: conflicts.length
          ? `the revert does not apply cleanly on ${onto.slice(0, 12)}: conflicts in ${conflicts.join(', ')}`
          : `git revert failed on ${onto.slice(0, 12)}: ${e.stderr.trim().split('\n').at(-1) ?? e.message}`,
        conflicts,
      };
    }
    const staged = await git(['diff', '--cached', '--quiet']).then(
      () => false,
      () => true,
    );
    if (!staged)
      return {
        ok: false,
        why: `reverting it changes nothing on ${onto.slice(0, 12)}: it was undone already`,
        conflicts: [],
      };
    await git(['commit', '--quiet', '--no-verify', '-m', message]);
    const sha = (await git(['rev-parse', 'HEAD'])).stdout.trim();
    return { ok: true, sha };
  } finally {
    await mirror.removeWorktree(dir).catch(() => undefined);
  }
}
