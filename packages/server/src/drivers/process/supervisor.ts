import type { ChildProcess } from 'node:child_process';
import type { DriverEvent } from '@gantry/driver-api';
import { isAlive } from './process-group.js';

export interface SupervisionOptions {
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Up this long after a restart, the next crash counts from one again. */
  resetAfterMs: number;
  /** Crashes in a row before giving up. */
  maxCrashes: number;
  /** How often an adopted process (not our child) is checked for liveness. */
  pollMs: number;
}

export const DEFAULT_SUPERVISION: SupervisionOptions = {
  initialBackoffMs: 500,
  maxBackoffMs: 30_000,
  resetAfterMs: 60_000,
  maxCrashes: 10,
  pollMs: 250,
};

export interface Supervised {
  workdir: string;
  sha: string;
  pid: number;
  /** Present when the process is our child; an adopted one is polled. */
  child?: ChildProcess;
}

export interface SupervisorHooks {
  /** Starts the release again; resolves null when it is no longer wanted. Throws when it failed. */
  restart(workdir: string, sha: string, deadPid: number): Promise<Omit<Supervised, 'workdir' | 'sha'> | null>;
  report(workdir: string, event: DriverEvent): void;
  gaveUp(workdir: string, sha: string): Promise<void>;
  warn(workdir: string, msg: string): void;
}

interface Watch extends Supervised {
  crashes: number;
  upSince: number;
  detach?: () => void;
  retry?: NodeJS.Timeout;
}

/** Restarts serving and standby releases that exit, with exponential backoff, until it gives up. */
export class Supervisor {
  private readonly watches = new Map<string, Watch>();
  private closed = false;

  constructor(
    private readonly hooks: SupervisorHooks,
    private readonly opts: SupervisionOptions = DEFAULT_SUPERVISION,
  ) {}

  /** Starts watching a release that just started or was adopted; replaces any earlier watch of it. */
  watch(target: Supervised): void {
    if (this.closed) return;
    this.unwatch(target.workdir, target.sha);
    const w: Watch = { ...target, crashes: 0, upSince: Date.now() };
    this.watches.set(key(target.workdir, target.sha), w);
    this.observe(w);
  }

  /** Before a release is stopped on purpose, so that its exit is not a crash. */
  unwatch(workdir: string, sha: string): void {
    const w = this.watches.get(key(workdir, sha));
    if (!w) return;
    this.quiet(w);
    this.watches.delete(key(workdir, sha));
  }

  unwatchAll(workdir: string): void {
    for (const w of [...this.watches.values()]) if (w.workdir === workdir) this.unwatch(workdir, w.sha);
  }

  watching(workdir: string): string[] {
    return [...this.watches.values()].filter((w) => w.workdir === workdir).map((w) => w.sha);
  }

  close(): void {
    this.closed = true;
    for (const w of this.watches.values()) this.quiet(w);
    this.watches.clear();
  }

  private observe(w: Watch): void {
    const { child } = w;
    if (child && child.pid === w.pid) {
      if (child.exitCode !== null || child.signalCode !== null) {
        const { exitCode, signalCode } = child;
        setImmediate(() => this.exited(w, exitCode, signalCode));
        return;
      }
      const onExit = (code: number | null, sig: NodeJS.Signals | null) => this.exited(w, code, sig);
      child.once('exit', onExit);
      w.detach = () => child.off('exit', onExit);
      return;
    }
    const timer = setInterval(() => {
      if (!isAlive(w.pid)) this.exited(w, null, null);
    }, this.opts.pollMs);
    timer.unref();
    w.detach = () => clearInterval(timer);
  }

  private exited(w: Watch, exitCode: number | null, signal: string | null): void {
    if (!this.current(w)) return;
    this.quiet(w);
    if (Date.now() - w.upSince >= this.opts.resetAfterMs) w.crashes = 0;
    w.crashes++;
    if (w.crashes >= this.opts.maxCrashes) {
      this.watches.delete(key(w.workdir, w.sha));
      this.hooks.report(w.workdir, { type: 'gave-up', sha: w.sha, crashes: w.crashes });
      void this.hooks.gaveUp(w.workdir, w.sha).catch((err: Error) => this.hooks.warn(w.workdir, err.message));
      return;
    }
    const delay = Math.min(this.opts.initialBackoffMs * 2 ** (w.crashes - 1), this.opts.maxBackoffMs);
    this.hooks.report(w.workdir, { type: 'crashed', sha: w.sha, exitCode, signal, restartInMs: delay });
    w.retry = setTimeout(() => void this.restart(w), delay);
    w.retry.unref();
  }

  private async restart(w: Watch): Promise<void> {
    try {
      const next = await this.hooks.restart(w.workdir, w.sha, w.pid);
      if (!this.current(w)) return;
      if (!next) return void this.watches.delete(key(w.workdir, w.sha));
      Object.assign(w, { pid: next.pid, child: next.child, upSince: Date.now() });
      this.observe(w);
      this.hooks.report(w.workdir, { type: 'restarted', sha: w.sha });
    } catch (err) {
      if (!this.current(w)) return;
      this.hooks.warn(w.workdir, `restarting ${w.sha.slice(0, 7)} failed: ${(err as Error).message}`);
      this.exited(w, null, null);
    }
  }

  private current(w: Watch): boolean {
    return !this.closed && this.watches.get(key(w.workdir, w.sha)) === w;
  }

  private quiet(w: Watch): void {
    w.detach?.();
    w.detach = undefined;
    clearTimeout(w.retry);
  }
}

function key(workdir: string, sha: string): string {
  return `${workdir}\0${sha}`;
}
