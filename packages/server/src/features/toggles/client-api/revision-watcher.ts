import type { Logger } from 'pino';
import type { ToggleService } from '../toggle-service.js';

type Listener = (revision: number) => void;

const keyOf = (appId: string, env: string) => `${appId}\u0000${env}`;

/**
 * The current revision of every app environment. Commits on this server arrive at once through
 * `ToggleService.onRevisions`, and other servers' on the same PostgreSQL through `learn` (the
 * cluster's LISTEN/NOTIFY, src/cluster); re-reading the table every `pollMs` is the fallback for a
 * notification lost with its connection. Revisions only grow, so a late read never moves one back.
 */
export class RevisionWatcher {
  private readonly known = new Map<string, number>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private loaded: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private polling = false;
  private initialized = false;

  constructor(
    private readonly toggles: ToggleService,
    private readonly logger: Logger,
    private readonly pollMs = 1000,
  ) {
    toggles.onRevisions((changed) => {
      for (const c of changed) this.update(c.appId, c.env, c.revision);
    });
  }

  /** Resolves once the revisions have been read; starts the polling on first use. */
  ready(): Promise<void> {
    if (!this.loaded) {
      this.loaded = this.poll().then(() => {
        this.initialized = true;
      });
      this.timer = setInterval(() => void this.poll(), this.pollMs);
      this.timer.unref();
    }
    return this.loaded;
  }

  isReady(): boolean {
    return this.initialized;
  }

  current(appId: string, env: string): number {
    return this.known.get(keyOf(appId, env)) ?? 0;
  }

  /** Revisions committed elsewhere (another server): the caches keyed by revision rebuild on next use. */
  learn(changed: { appId: string; env: string; revision: number }[]): void {
    for (const c of changed) this.update(c.appId, c.env, c.revision);
  }

  /** Calls `listener` with each newer revision of this environment; returns the unsubscribe. */
  watch(appId: string, env: string, listener: Listener): () => void {
    const key = keyOf(appId, env);
    const set = this.listeners.get(key) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(key, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.stopped || this.polling) return;
    this.polling = true;
    try {
      for (const r of await this.toggles.readStore().revisions()) this.update(r.appId, r.env, r.revision);
    } catch (err) {
      if (!this.stopped) this.logger.warn({ err }, 'reading toggle revisions failed');
    } finally {
      this.polling = false;
    }
  }

  private update(appId: string, env: string, revision: number): void {
    const key = keyOf(appId, env);
    if (revision <= (this.known.get(key) ?? 0)) return;
    this.known.set(key, revision);
    for (const l of this.listeners.get(key) ?? []) l(revision);
  }
}
