import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CLI entry point exactly as a user runs it. */
export const CLI_BIN = resolve(fileURLToPath(new URL('../../bin/gantry.js', import.meta.url)));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  /** Added to a scrubbed copy of this process's environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** The CLI's entry point; default the clone's bin/gantry.js (an installed package's elsewhere). */
  bin?: string;
}

let xdgRoot: string | undefined;
/**
 * A new empty XDG config home: inside the run's own (test/global-setup.ts makes one per run and
 * removes it at the end; vitest may kill a worker before its exit handlers run), else in a folder of
 * this process removed when it exits.
 */
function freshXdg(): string {
  if (!xdgRoot) {
    const runWide = process.env.XDG_CONFIG_HOME?.includes('gantry-test-xdg-')
      ? process.env.XDG_CONFIG_HOME
      : undefined;
    const root = runWide ?? mkdtempSync(join(tmpdir(), 'gantry-cli-xdg-'));
    xdgRoot = root;
    if (!runWide) process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  }
  return mkdtempSync(join(xdgRoot, 'cli-'));
}

/**
 * The environment a CLI subprocess sees: this process's, without any GANTRY_* variable or git
 * config of the machine, plus `extra`. XDG_CONFIG_HOME is a new empty folder unless `extra` names
 * one, so no test touches the real user's config (`gantry server` and `gantry login` write there)
 * and no two tests share a saved login.
 */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GANTRY_')) env[k] = v;
  Object.assign(env, { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', NO_COLOR: '1' });
  if (!extra.XDG_CONFIG_HOME) env.XDG_CONFIG_HOME = freshXdg();
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface CliProcess {
  child: ChildProcess;
  /** Everything written so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the first match of `pattern` in stdout, once it appears. */
  waitForStdout(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  done: Promise<CliResult>;
}

/** Starts `node bin/gantry.js …` and returns at once; for long-running commands such as `server`. */
export function startCli(args: string[], opts: CliOptions): CliProcess {
  const child = spawn(process.execPath, [opts.bin ?? CLI_BIN, ...args], {
    cwd: opts.cwd,
    env: cliEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const l of listeners) l();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliResult>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const l of listeners) l();
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    waitForStdout(pattern, ms = 60_000) {
      return new Promise((resolvePromise, reject) => {
        const check = () => {
          const m = stdout.match(pattern);
          if (m) {
            finish();
            resolvePromise(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            finish();
            reject(
              new Error(`gantry ${args.join(' ')} exited before printing ${pattern}:\n${stdout}${stderr}`),
            );
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(`gantry ${args.join(' ')} did not print ${pattern} in ${ms} ms:\n${stdout}${stderr}`),
          );
        }, ms);
        const finish = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    done,
  };
}

/** Runs the CLI to completion: `{ code, stdout, stderr }`. */
export function runCli(args: string[], opts: CliOptions): Promise<CliResult> {
  return startCli(args, opts).done;
}

/**
 * A user's shell for the tests: an empty working directory and an empty XDG config home, so
 * nothing reads or writes the real home. `env` is added to every run (e.g. GANTRY_URL/TOKEN).
 */
export interface CliSandbox {
  cwd: string;
  xdg: string;
  run(args: string[], opts?: Partial<CliOptions>): Promise<CliResult>;
  start(args: string[], opts?: Partial<CliOptions>): CliProcess;
  /** Runs and parses stdout as JSON, failing with the output when the exit code is not 0. */
  json<T>(args: string[], opts?: Partial<CliOptions>): Promise<T>;
  cleanup(): Promise<void>;
}

export async function makeCliSandbox(
  env: Record<string, string | undefined> = {},
  defaults: { bin?: string } = {},
): Promise<CliSandbox> {
  const root = await mkdtemp(join(tmpdir(), 'gantry-cli-'));
  const cwd = await mkdtemp(join(root, 'cwd-'));
  const xdg = await mkdtemp(join(root, 'xdg-'));
  const optsFor = (opts: Partial<CliOptions> = {}): CliOptions => ({
    ...defaults,
    ...opts,
    cwd: opts.cwd ?? cwd,
    env: { XDG_CONFIG_HOME: xdg, ...env, ...opts.env },
  });
  const run = (args: string[], opts?: Partial<CliOptions>) => runCli(args, optsFor(opts));
  return {
    cwd,
    xdg,
    run,
    start: (args, opts) => startCli(args, optsFor(opts)),
    async json<T>(args: string[], opts?: Partial<CliOptions>) {
      const res = await run(args, opts);
      if (res.code !== 0) {
        throw new Error(`gantry ${args.join(' ')} exited ${res.code}:\n${res.stdout}${res.stderr}`);
      }
      return JSON.parse(res.stdout) as T;
    },
    cleanup: () => rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }),
  };
}

/** A loopback port nothing listens on (at the moment of asking). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
