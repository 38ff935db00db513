import type { DriverEvent } from '@gantry/driver-api';
import type { SupervisionOptions } from '../process/supervisor.js';

export interface WatchedContainer {
  workdir: string;
  /** Container name (the state file's key). */
  name: string;
  sha: string;
}

export interface ContainerSupervisorHooks {
  /** Whether it runs; null when the container is gone. Throws when the engine cannot say. */
  status(name: string): Promise<{ running: boolean; exitCode: number | null } | null>;
  /** Starts it again; resolves the name to watch from now on (a container made again has a new one),
   *  or null when it is no longer wanted. Throws when it failed. */
  restart(workdir: string, name: string): Promise<string | null>;
  report(workdir: string, event: DriverEvent): void;
  gaveUp(workdir: string, name: string): Promise<void>;
  warn(workdir: string, msg: string): void;
}

interface Watch extends WatchedContainer {
  crashes: number;
  upSince: number;
  timer?: NodeJS.Timeout;
  retry?: NodeJS.Timeout;
  checking: boolean;
}

/**
 * Restarts serving and standby containers that exit, with exponential backoff, until it gives up;
 * each crash, restart and giving up is reported. The engine is asked every `pollMs` (an engine's
 * event stream would need reconnecting; a poll of a few containers costs next to nothing).
 */
export class ContainerSupervisor {
  private readonly watches = new Map<string, Watch>();
  private closed = false;

  constructor(
    private readonly hooks: ContainerSupervisorHooks,
    private readonly opts: SupervisionOptions,
  ) {}

  watch(target: WatchedContainer): void {
    if (this.closed) return;
    this.unwatch(target.workdir, target.name);
    const w: Watch = { ...target, crashes: 0, upSince: Date.now(), checking: false };
    this.watches.set(key(target.workdir, target.name), w);
    this.observe(w);
  }

  /** Before a container is stopped on purpose, so that its exit is not a crash. */
  unwatch(workdir: string, name: string): void {
    const w = this.watches.get(key(workdir, name));
    if (!w) return;
    this.quiet(w);
    this.watches.delete(key(workdir, name));
  }

  unwatchAll(workdir: string): void {
    for (const w of [...this.watches.values()]) if (w.workdir === workdir) this.unwatch(workdir, w.name);
  }

  watching(workdir: string): string[] {
    return [...this.watches.values()].filter((w) => w.workdir === workdir).map((w) => w.name);
  }

  close(): void {
    this.closed = true;
    for (const w of this.watches.values()) this.quiet(w);
    this.watches.clear();
  }

  private observe(w: Watch): void {
    w.timer = setInterval(() => void this.check(w), this.opts.pollMs);
    w.timer.unref();
  }

  private async check(w: Watch): Promise<void> {
    if (w.checking || !this.current(w)) return;
    w.checking = true;
    try {
      const status = await this.hooks.status(w.name);
      if (this.current(w) && !status?.running) this.exited(w, status?.exitCode ?? null);
    } catch {
      // The engine did not answer this time; ask again at the next tick.
    } finally {
      w.checking = false;
    }
  }

  private exited(w: Watch, exitCode: number | null): void {
    if (!this.current(w)) return;
    this.quiet(w);
    if (Date.now() - w.upSince >= this.opts.resetAfterMs) w.crashes = 0;
    w.crashes++;
    if (w.crashes >= this.opts.maxCrashes) {
      this.watches.delete(key(w.workdir, w.name));
      this.hooks.report(w.workdir, { type: 'gave-up', sha: w.sha, crashes: w.crashes });
      void this.hooks
        .gaveUp(w.workdir, w.name)
        .catch((err: Error) => this.hooks.warn(w.workdir, err.message));
      return;
    }
    const delay = Math.min(this.opts.initialBackoffMs * 2 ** (w.crashes - 1), this.opts.maxBackoffMs);
    this.hooks.report(w.workdir, { type: 'crashed', sha: w.sha, exitCode, signal: null, restartInMs: delay });
    w.retry = setTimeout(() => void this.restart(w), delay);
    w.retry.unref();
  }

  private async restart(w: Watch): Promise<void> {
    try {
      const next = await this.hooks.restart(w.workdir, w.name);
      if (!this.current(w)) return;
      if (!next) return void this.watches.delete(key(w.workdir, w.name));
      if (next !== w.name) {
        this.watches.delete(key(w.workdir, w.name));
        w.name = next;
        this.watches.set(key(w.workdir, next), w);
      }
      w.upSince = Date.now();
      this.observe(w);
      this.hooks.report(w.workdir, { type: 'restarted', sha: w.sha });
    } catch (err) {
      if (!this.current(w)) return;
      this.hooks.warn(w.workdir, `restarting container ${w.name} failed: ${(err as Error).message}`);
      this.exited(w, null);
    }
  }

  private current(w: Watch): boolean {
    return !this.closed && this.watches.get(key(w.workdir, w.name)) === w;
  }

  private quiet(w: Watch): void {
    clearInterval(w.timer);
    clearTimeout(w.retry);
    w.timer = undefined;
    w.retry = undefined;
  }
}

function key(workdir: string, name: string): string {
  return `${workdir}\0${name}`;
}
