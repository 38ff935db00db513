import type { RetentionReport } from '@gantry/contracts';
import type { Logger } from 'pino';
import type { ArtifactRetention } from './retention-service.js';

export const RETENTION_ACTOR = 'gantry:retention';

/**
 * Runs the artifact retention policy at start and then every hour, like log retention. Kept apart
 * from the service so that it can move under a leader (one server of several runs it): whoever
 * holds the lead calls `start()`, and `stop()` when it loses it; `runRetention()` is one pass.
 */
export class RetentionSchedule {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly o: { retention: Pick<ArtifactRetention, 'run'>; logger: Logger; intervalMs?: number },
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer) return;
    this.pass = this.runRetention();
    this.timer = setInterval(() => {
      this.pass = this.pass.then(() => this.runRetention());
    }, this.o.intervalMs ?? 3_600_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.pass;
  }

  /** One pass of the policy; errors are logged, never thrown (retention must not stop the server). */
  async runRetention(): Promise<RetentionReport | null> {
    try {
      const report = await this.o.retention.run({ actor: RETENTION_ACTOR });
      if (report.collected.length > 0 || report.failed.length > 0)
        this.o.logger.info(
          {
            collected: report.collected.map((c) => c.artifact.id),
            failed: report.failed.map((f) => ({ id: f.artifact.id, error: f.error })),
            kept: report.kept.length,
            freedBytes: report.freedBytes,
            policy: report.policy,
          },
          `artifact retention: collected ${report.collected.length} artifact${report.collected.length === 1 ? '' : 's'}${report.failed.length ? `, ${report.failed.length} could not be deleted` : ''}`,
        );
      return report;
    } catch (err) {
      this.o.logger.warn({ err }, 'artifact retention: the pass failed; will retry');
      return null;
    }
  }
}
