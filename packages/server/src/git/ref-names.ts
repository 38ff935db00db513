import { tmpdir } from 'node:os';
import { namePattern } from '@gantry/contracts';
import { InvalidInput } from '../errors.js';
import { GitError, runGit } from './git-cli.js';

/**
 * Checks of names that end up in git commands or refs, before they get there: a bad one is a 400
 * with the reason, never a GitError (500) and never an option (`--upload-pack=…`).
 */

/** An environment name as gantry.yaml allows it; it becomes part of deploy tags and folder names. */
export function checkEnvironmentName(env: string, field = 'env'): string {
  if (env.length > 63 || !namePattern.test(env) || !/[a-z]/.test(env)) {
    throw new InvalidInput(
      `${field}: ${JSON.stringify(env)} is not a valid environment name: use lowercase letters, digits and dashes (at most 63), starting with a letter or digit`,
      { field },
    );
  }
  return env;
}

/** True when the text holds a C0 control character or DEL (newlines, NUL, escape sequences). */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** `git check-ref-format`, run outside any repository (so `@{-1}` is not expanded). */
async function refFormatOk(args: string[]): Promise<boolean> {
  try {
    await runGit(['check-ref-format', ...args], { cwd: tmpdir() });
    return true;
  } catch (error) {
    if (error instanceof GitError && error.exitCode !== null) return false;
    throw error;
  }
}

/** A branch an app follows, checked with `git check-ref-format --branch` (refuses `main:evil`, `--x`, `a..b`). */
export async function checkBranchName(branch: string, field = 'branch'): Promise<string> {
  const refuse = (why: string) =>
    new InvalidInput(`${field}: ${JSON.stringify(branch)} is not a valid branch name: ${why}`, { field });
  if (branch === '' || branch.startsWith('-')) throw refuse('it must not be empty or start with "-"');
  // `@{…}` and `@` are revision syntax (previous branch, reflog), not names.
  if (branch.includes('@{') || branch === '@' || branch === 'HEAD')
    throw refuse('"@{", "@" and "HEAD" are revision syntax');
  if (hasControlCharacter(branch)) throw refuse('it contains a control character');
  if (!(await refFormatOk(['--branch', branch]))) throw refuse('git check-ref-format --branch refuses it');
  return branch;
}

/** A tag name Gantry is about to create (`deploy/<env>/<stamp>-<sha>`). */
export async function checkTagName(tag: string, field = 'tag'): Promise<string> {
  const ok =
    !tag.startsWith('-') && /^[A-Za-z0-9._/-]+$/.test(tag) && (await refFormatOk([`refs/tags/${tag}`]));
  if (!ok) {
    throw new InvalidInput(
      `${field}: ${JSON.stringify(tag)} is not a valid tag name (git check-ref-format refuses it, or it holds characters other than letters, digits, ".", "_", "-" and "/"); check tags.pattern in gantry.yaml`,
      { field },
    );
  }
  return tag;
}
