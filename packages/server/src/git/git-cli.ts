import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { GantryError } from '../errors.js';

export interface RunGitOptions {
  cwd?: string;
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface GitOutput {
  stdout: string;
  stderr: string;
}

export class GitError extends GantryError {
  readonly args: string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly stdout: string;
  constructor(args: string[], exitCode: number | null, stderr: string, stdout: string, reason?: string) {
    const detail = reason ?? (stderr.trim() || `exit code ${exitCode}`);
    super(`git ${args.join(' ')} failed: ${detail}`, { args, exitCode });
    this.args = args;
    this.exitCode = exitCode;
    this.stderr = stderr;
    this.stdout = stdout;
  }
}

const MAX_BUFFER = 512 * 1024 * 1024;

/**
 * Runs the real git CLI without a shell. Never prompts (a prompt would hang the server), and uses the
 * C locale so callers can rely on git's English messages.
 */
export function runGit(args: string[], opts: RunGitOptions = {}): Promise<GitOutput> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      {
        cwd: opts.cwd,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...opts.env },
        maxBuffer: MAX_BUFFER,
        timeout: opts.timeoutMs ?? 0,
        signal: opts.signal,
        encoding: 'utf8',
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ stdout, stderr });
          return;
        }
        const code = typeof error.code === 'number' ? error.code : null;
        let reason: string | undefined;
        if (opts.signal?.aborted) reason = 'aborted';
        else if (error.killed && opts.timeoutMs) reason = `timed out after ${opts.timeoutMs} ms`;
        else if (opts.cwd && !existsSync(opts.cwd)) reason = `the folder ${opts.cwd} does not exist`;
        else if (error.code === 'ENOENT') reason = 'git is not installed or not on the PATH';
        else if (code === null && typeof error.code === 'string') reason = `${error.code}: ${error.message}`;
        reject(new GitError(args, code, stderr ?? '', stdout ?? '', reason));
      },
    );
    // git may exit before reading all input (e.g. on a bad argument); that is reported via the exit code.
    child.stdin?.on('error', () => {});
    child.stdin?.end(opts.input ?? '');
  });
}
