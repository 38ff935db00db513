import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';

/** Work that must run on one server at a time: started when this server leads, stopped when it no longer does. */
export interface LeaderDuty {
  name: string;
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

export interface LeaderElectionOptions {
  /** The PostgreSQL database the servers share; without one (SQLite) this server always leads. */
  url?: string;
  /** The servers' schema: servers on other schemas of the same database elect their own leader. */
  schema?: string;
  duties?: LeaderDuty[];
  logger: Logger;
  /** How often a follower tries to take the lead, and the leader checks its connection (default 2 s). */
  retryMs?: number;
}

/** First half of the advisory lock's key: "GANT". The second half names the schema. */
const LOCK_CLASS = 0x47414e54 | 0;

/**
 * Elects one server among those sharing a PostgreSQL database to run the work that must happen
 * once (polling repositories, scheduled releases, artifact retention), with a session-level
 * advisory lock held on a connection of its own. When the leader dies, PostgreSQL ends its session
 * and frees the lock (at once for a killed process; within about 10 s through TCP keepalives for a
 * machine that vanished), and the next follower to try takes the lead. A leader whose connection
 * breaks stops its duties before anyone else can start them.
 */
export class LeaderElection {
  private client?: pg.Client;
  private timer?: NodeJS.Timeout;
  private leading = false;
  private stopped = false;
  private busy?: Promise<void>;
  private readonly listeners: ((leading: boolean) => void)[] = [];
  private readonly duties: LeaderDuty[];

  constructor(private readonly o: LeaderElectionOptions) {
    this.duties = [...(o.duties ?? [])];
  }

  /** Adds work for the leader; before start(). */
  addDuty(duty: LeaderDuty): void {
    this.duties.push(duty);
  }

  /** Whether this server shares its database with others (PostgreSQL) and so takes part in an election. */
  get elected(): boolean {
    return this.o.url !== undefined;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Told when this server takes or loses the lead. */
  onChange(listener: (leading: boolean) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    if (!this.o.url) return this.lead();
    await this.attempt();
    this.timer = setInterval(() => void this.attempt(), this.o.retryMs ?? 2_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.busy;
    await this.step('stopping');
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }

  /** Follower: try to take the lock. Leader: check the connection that holds it still works. */
  private attempt(): Promise<void> {
    if (this.busy || this.stopped) return this.busy ?? Promise.resolve();
    this.busy = (this.leading ? this.check() : this.tryLead())
      .catch((err: unknown) => this.o.logger.warn({ err }, 'leader election: will try again'))
      .finally(() => {
        this.busy = undefined;
      });
    return this.busy;
  }

  private async tryLead(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.o.url,
      application_name: 'gantry:leader',
      keepAlive: true,
      keepAliveInitialDelayMillis: 5_000,
      // The server side notices a vanished leader too, so its lock does not outlive it for long.
      options: '-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3',
    });
    client.on('error', (err) => {
      this.o.logger.warn({ err }, 'leader election: the connection holding the lead broke');
      if (this.client === client) void this.step('its connection broke');
    });
    await client.connect();
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
      LOCK_CLASS,
      schemaKey(this.o.schema),
    ]);
    if (!rows[0]?.ok || this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    await this.lead();
  }

  private async check(): Promise<void> {
    try {
      await this.client!.query('SELECT 1');
    } catch {
      await this.step('its connection stopped answering');
    }
  }

  private async lead(): Promise<void> {
    if (this.leading) return;
    this.leading = true;
    if (this.o.url) this.o.logger.info('leading: this server runs polling, scheduled releases and retention');
    for (const duty of this.duties) {
      try {
        await duty.start();
      } catch (err) {
        this.o.logger.error({ err, duty: duty.name }, 'could not start a duty of the leader');
      }
    }
    for (const l of this.listeners) l(true);
  }

  /** Stops leading: duties first, then the connection (which frees the lock for another server). */
  private async step(why: string): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    if (!this.stopped) this.o.logger.warn(`no longer leading: ${why}`);
    for (const duty of [...this.duties].reverse()) {
      try {
        await duty.stop();
      } catch (err) {
        this.o.logger.error({ err, duty: duty.name }, 'could not stop a duty of the leader');
      }
    }
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
    for (const l of this.listeners) l(false);
  }
}

function schemaKey(schema = 'public'): number {
  return createHash('sha256').update(schema).digest().readInt32BE(0);
}
