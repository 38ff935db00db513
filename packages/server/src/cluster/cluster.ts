import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '../db/database.js';
import type { EventBus } from '../events/event-bus.js';
import type { SqlEventStore } from '../events/sql-event-store.js';
import { clusterChannel, parseMessage, phaseMessage } from './cluster-channel.js';
import { EventRelay } from './event-relay.js';
import { PgListener } from './pg-listener.js';

export interface ClusterDeps {
  /** The PostgreSQL URL the pool uses; the listener opens its own connection to it. */
  url: string;
  /** The schema the server uses (tests); otherwise the connection's current schema. */
  schema?: string;
  db: Db;
  origin: string;
  bus: EventBus;
  events: SqlEventStore;
  logger: Logger;
  /** Toggle revisions another server committed: the per-revision caches know at once. */
  revisions(changed: { appId: string; env: string; revision: number }[]): void;
  /** Tokens another server revoked (their streams here close), or whose owner's roles changed. */
  tokens: { revokedElsewhere(tokenIds: string[]): void; forget(): void };
  /** A deploy phase an agent reported to another server, for a host job this server may be waiting on. */
  phases?(jobId: string, phase: string): void;
  /** Tuning for tests. */
  listener?: { retryMs?: number; heartbeatMs?: number };
  holeWaitMs?: number;
}

/** What a server shares with the others on its PostgreSQL database; absent on SQLite (one server). */
export interface Cluster {
  origin: string;
  channel: string;
  listener: PgListener;
  relay: EventRelay;
  /** Tells the other servers of a host job's phase (the one waiting on the job hears it). */
  announcePhase(jobId: string, phase: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Joins the servers that share this PostgreSQL schema: a dedicated connection LISTENs on the schema's
 * channel, the relay publishes other servers' events on this server's bus (SSE streams, `gantry logs
 * -f`, the console's live views), toggle revisions reach the client API's caches at once, and a
 * token revoked elsewhere closes its streams here.
 */
export async function startCluster(d: ClusterDeps): Promise<Cluster> {
  const schema =
    d.schema ?? (await sql<{ s: string }>`select current_schema() as s`.execute(d.db)).rows[0]?.s ?? 'public';
  const channel = clusterChannel(schema);
  // The pool's connections must name this server, or its own events would come back as another's.
  const { rows } = await sql<{
    o: string | null;
  }>`select current_setting('gantry.origin', true) as o`.execute(d.db);
  if (rows[0]?.o !== d.origin)
    throw new Error(
      `the database connections do not carry this server's id (gantry.origin is ${JSON.stringify(rows[0]?.o ?? null)}): ` +
        'an `options` parameter in GANTRY_DATABASE_URL replaces the ones Gantry sets; remove it (set the search path on the role instead)',
    );
  const relay = new EventRelay({
    events: d.events,
    bus: d.bus,
    origin: d.origin,
    logger: d.logger,
    holeWaitMs: d.holeWaitMs,
  });
  const listener = new PgListener({
    url: d.url,
    channel,
    applicationName: `gantry-listen:${schema}`.slice(0, 63),
    logger: d.logger,
    ...d.listener,
    onNotify(payload) {
      const m = parseMessage(payload);
      if (m?.kind === 'event') relay.announced(m.id, m.origin);
      else if (m?.kind === 'revision' && m.origin !== d.origin)
        d.revisions([{ appId: m.appId, env: m.env, revision: m.revision }]);
      else if (m?.kind === 'phase' && m.origin !== d.origin) d.phases?.(m.jobId, m.phase);
    },
    onListening(reconnected) {
      if (reconnected) relay.catchUp();
    },
  });
  await listener.start();
  await relay.init();
  const unsubscribe = d.bus.subscribe((e, { remote }) => {
    if (!remote) return;
    if (e.type === 'token.revoked' && e.subject) d.tokens.revokedElsewhere([e.subject]);
    else if (e.type.startsWith('user.') || e.type.startsWith('role.')) d.tokens.forget();
  });
  d.logger.info({ origin: d.origin, channel }, 'cluster: listening for the other servers on this database');
  return {
    origin: d.origin,
    channel,
    listener,
    relay,
    async announcePhase(jobId, phase) {
      await sql`select pg_notify(${channel}, ${phaseMessage(d.origin, jobId, phase)})`.execute(d.db);
    },
    async close() {
      unsubscribe();
      await listener.stop();
      await relay.close();
    },
  };
}
