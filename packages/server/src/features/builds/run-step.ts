import { spawn } from 'node:child_process';
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { sandboxSession } from '../../sandbox/host-sandbox.js';
import { LogTail } from './log-tail.js';

export interface StepRun {
  command: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** A wrapper argv put before `sh -c` (the sandbox: `bwrap … --`); its process leads the group. */
  wrapper?: string[];
  logFile: string;
  timeoutMs: number;
  signal: AbortSignal;
  onOutput?(chunk: Buffer): void;
  onSpawn?(pid: number): void;
  /** Replaces secret values in the output before it is logged, kept or passed on (features/secrets). */
  mask?: OutputMask;
}

/** Masks a stream of output, a value split across two chunks included (SecretMasker). */
export interface OutputMask {
  stream(): { push(chunk: Buffer): Buffer; end(): Buffer };
}

export interface StepOutcome {
  exitCode: number | null;
  /** Why the step stopped early, when it did. */
  stoppedBy: 'timeout' | 'abort' | 'log-error' | null;
  /** Set when the step failed for a reason of its own (a log that cannot be written), not its exit code. */
  failure?: string;
  tail: string;
}

const TAIL_LINES = 20;
const KILL_GRACE_MS = 3_000;

/**
 * Runs one build step in its own process group (so timeouts and cancels stop the whole tree),
 * appending stdout and stderr to a log file as they arrive.
 */
export async function runStep(run: StepRun): Promise<StepOutcome> {
  await mkdir(dirname(run.logFile), { recursive: true, mode: 0o700 });
  // Opened before the step starts: a step that swaps the log for a link to another file (a command
  // script's working folder holds its log) still writes to the file that was there. A log that
  // cannot be opened fails the step below, as one that cannot be written.
  const log = openLog(run.logFile);
  const tail = new LogTail(TAIL_LINES);
  // A log that cannot be written (disk full, I/O error) stops the step and fails it; it must never
  // be an unhandled 'error' event, which would take the whole server down.
  let logError: Error | undefined;
  log.on('error', (err) => {
    logError ??= err;
    stop('log-error');
    // Paused for a 'drain' that will not come: read on (and drop) until the step is gone.
    child.stdout.resume();
    child.stderr.resume();
  });
  // One pipe for both streams keeps the log in the order the step wrote it.
  const [file, ...args] = [...(run.wrapper ?? []), 'sh', '-c', `exec 2>&1\n${run.command}`];
  const child = spawn(file!, args, {
    cwd: run.cwd,
    env: run.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid) run.onSpawn?.(child.pid);
  const masking = run.mask?.stream();
  const emit = (chunk: Buffer) => {
    if (!logError && !log.write(chunk)) {
      // The disk is slower than the step: hold the pipes until the log caught up (bounded memory).
      child.stdout.pause();
      child.stderr.pause();
      log.once('drain', () => {
        child.stdout.resume();
        child.stderr.resume();
      });
    }
    tail.push(chunk);
    run.onOutput?.(chunk);
  };
  const onData = (raw: Buffer) => emit(masking ? masking.push(raw) : raw);
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);

  let stoppedBy: StepOutcome['stoppedBy'] = null;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (why: 'timeout' | 'abort' | 'log-error') => {
    if (stoppedBy || child.exitCode !== null) return;
    stoppedBy = why;
    // bwrap leads a sandboxed step's group and would die of the TERM, killing the step at once; the
    // step's own session (bwrap's child, --new-session) gets the TERM, the whole group the KILL.
    killGroup((run.wrapper?.length && sandboxSession(child.pid)) || child.pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
  };
  const timer = setTimeout(() => stop('timeout'), run.timeoutMs);
  const onAbort = () => stop('abort');
  if (run.signal.aborted) onAbort();
  run.signal.addEventListener('abort', onAbort);

  const exitCode = await new Promise<number | null>((resolve) => {
    child.on('error', (err) => {
      onData(Buffer.from(`gantry: could not start step: ${err.message}\n`));
      resolve(127);
    });
    const settle = (code: number | null, sig: NodeJS.Signals | null) =>
      resolve(code ?? (sig ? 128 + signalNumber(sig) : null));
    child.on('close', settle);
    // A grandchild that left the group can hold the pipes open; do not wait on it forever.
    child.on('exit', (code, sig) => setTimeout(() => settle(code, sig), 2_000).unref());
  });
  clearTimeout(timer);
  clearTimeout(killTimer);
  run.signal.removeEventListener('abort', onAbort);
  if (masking) emit(masking.end());
  await closeLog(log);
  const failure = logError
    ? `could not write the build log ${run.logFile}: ${(logError as NodeJS.ErrnoException).code ?? logError.message}`
    : undefined;
  return { exitCode, stoppedBy: logError ? 'log-error' : stoppedBy, failure, tail: tail.text() };
}

/** Flushes and closes the log; an error while flushing is reported through the stream's listener. */
async function closeLog(log: WriteStream): Promise<void> {
  if (log.destroyed) return;
  await new Promise<void>((resolve) => {
    log.once('close', () => resolve());
    log.end();
  });
}

export function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

function signalNumber(sig: NodeJS.Signals): number {
  return sig === 'SIGKILL' ? 9 : sig === 'SIGTERM' ? 15 : sig === 'SIGINT' ? 2 : 1;
}

function openLog(file: string): WriteStream {
  try {
    return createWriteStream('', { fd: openSync(file, 'a', 0o600) });
  } catch {
    return createWriteStream(file, { flags: 'a', mode: 0o600 }); // its 'error' event says why
  }
}
