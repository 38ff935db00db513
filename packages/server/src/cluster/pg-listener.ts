import pg from 'pg';
import type { Logger } from 'pino';

export interface PgListenerOptions {
  url: string;
  channel: string;
  /** Shown in `pg_stat_activity`, so an operator (or a test) can tell this connection from the pool's. */
  applicationName: string;
  logger: Pick<Logger, 'info' | 'warn'>;
  onNotify(payload: string): void;
  /**
   * Listening (again): on a reconnect, what was announced while the connection was down was missed,
   * and the caller reads it from the tables.
   */
  onListening(reconnected: boolean): void;
  /** First wait before a reconnect; doubled after each failed one up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
  /**
   * A query this often proves the connection alive: a cut without a reset (a dead network path) is
   * otherwise silent, and a silent connection hears nothing.
   */
  heartbeatMs?: number;
}

/**
 * One dedicated connection (outside the pool: a pooled one is handed to other queries) that
 * LISTENs on a channel. When the connection drops — PostgreSQL restarted, `pg_terminate_backend`, a
 * network cut — it connects and listens again, with backoff, until stopped.
 */
export class PgListener {
  #client: pg.Client | undefined;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #retryMs: number;
  #reconnects = 0;

  constructor(private readonly o: PgListenerOptions) {
    this.#retryMs = o.retryMs ?? 100;
  }

  /** Connects and listens; throws when the first connection fails (the server cannot start then). */
  async start(): Promise<void> {
    await this.#connect(false);
  }

  get listening(): boolean {
    return this.#client !== undefined;
  }

  /** How many times the connection was made again after it dropped. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** The backend's process id (`pg_terminate_backend` takes it). */
  get pid(): number | undefined {
    return (this.#client as unknown as { processID?: number } | undefined)?.processID;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#heartbeat);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  async #connect(reconnected: boolean): Promise<void> {
    const heartbeatMs = this.o.heartbeatMs ?? 10_000;
    const client = new pg.Client({
      connectionString: this.o.url,
      application_name: this.o.applicationName,
      keepAlive: true,
      query_timeout: heartbeatMs,
    });
    // Without an 'error' listener a dropped connection is an unhandled 'error' event: the process dies.
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client));
    client.on('notification', (m) => {
      if (m.channel === this.o.channel && m.payload !== undefined) this.o.onNotify(m.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.o.channel.replaceAll('"', '""')}"`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.#stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#retryMs = this.o.retryMs ?? 100;
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => {
      client.query('SELECT 1').catch((err: Error) => this.#lost(client, err));
    }, heartbeatMs);
    this.#heartbeat.unref();
    if (reconnected) this.#reconnects++;
    this.o.onListening(reconnected);
  }

  #lost(client: pg.Client, err?: Error): void {
    if (client !== this.#client) return;
    this.#client = undefined;
    clearInterval(this.#heartbeat);
    client.end().catch(() => undefined);
    if (this.#stopped) return;
    this.o.logger.warn(
      { err, channel: this.o.channel },
      'cluster: the LISTEN connection was lost; connecting again (what was announced meanwhile is read from the tables)',
    );
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    const wait = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, this.o.maxRetryMs ?? 5_000);
    this.#timer = setTimeout(() => {
      this.#connect(true).then(
        () => this.o.logger.info({ channel: this.o.channel }, 'cluster: listening again'),
        (err: unknown) => {
          this.o.logger.warn({ err, retryInMs: this.#retryMs }, 'cluster: could not listen again yet');
          this.#schedule();
        },
      );
    }, wait);
    this.#timer.unref();
  }
}
