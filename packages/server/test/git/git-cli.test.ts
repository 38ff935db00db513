import { describe, expect, it } from 'vitest';
import { GitError, runGit } from '../../src/git/git-cli.js';

describe('runGit', () => {
  it('returns stdout and passes input on stdin', async () => {
    const { stdout } = await runGit(['hash-object', '--stdin'], { input: 'hello\n' });
    expect(stdout.trim()).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
  });

  it('throws GitError with the command and git stderr', async () => {
    const error = await runGit(['rev-parse', '--verify', 'no-such-ref'], { cwd: '/' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GitError);
    const gitError = error as GitError;
    expect(gitError.message).toMatch(
      /^git rev-parse --verify no-such-ref failed: fatal: not a git repository/,
    );
    expect(gitError.exitCode).toBe(128);
  });

  it('sets GIT_TERMINAL_PROMPT=0 so git never waits for a password', async () => {
    const { stdout } = await runGit(['-c', 'alias.show-env=!env', 'show-env']);
    expect(stdout).toContain('GIT_TERMINAL_PROMPT=0');
  });

  it('says so when the working folder is missing', async () => {
    await expect(runGit(['status'], { cwd: '/no/such/folder' })).rejects.toThrow(
      'git status failed: the folder /no/such/folder does not exist',
    );
  });

  it('honours an abort signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(runGit(['version'], { signal: controller.signal })).rejects.toThrow(/aborted/);
  });
});
