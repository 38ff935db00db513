import type { Logger } from 'pino';
import type { AppService } from '../apps/app-service.js';
import type { CommitService } from './commit-service.js';

/** The fallback way of seeing commits: fetch each app's mirror every `pollIntervalMs`. */
export class CommitPoller {
  private timer?: NodeJS.Timeout;
  private readonly lastPolled = new Map<string, number>();
  private running = false;

  constructor(
    private readonly apps: AppService,
    private readonly commits: CommitService,
    private readonly logger: Logger,
  ) {}

  start(tickMs = 1_000): void {
    this.timer = setInterval(
      () =>
        void this.tick().catch((err: unknown) => this.logger.warn({ err }, 'polling failed; will try again')),
      tickMs,
    );
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async tick(now = Date.now()): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const app of await this.apps.list()) {
        if (app.pollIntervalMs <= 0) continue;
        const last = this.lastPolled.get(app.id) ?? 0;
        if (now - last < app.pollIntervalMs) continue;
        this.lastPolled.set(app.id, now);
        await this.commits.ingest(app, 'poll', 'poller').catch((err: unknown) => {
          this.logger.warn({ err, app: app.name }, 'polling the repository failed; will try again');
        });
      }
    } finally {
      this.running = false;
    }
  }
}
