/**
 * Work noted in memory and written by a timer about once per `flushMs`, so SDK traffic never waits
 * on the database. Flushes run one after another; `close` writes what is left.
 */
export abstract class BatchedWriter {
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(protected readonly flushMs = 1000) {}

  /** Writes what is noted so far (tests and shutdown). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  protected schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushMs);
    this.timer.unref();
  }

  /** Takes what is pending and writes it; must not throw. */
  protected abstract write(): Promise<void>;
}
