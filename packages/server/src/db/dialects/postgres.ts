import { PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import { isConnectionError } from '../db-errors.js';
import type { DialectCapabilities } from './dialect-capabilities.js';

// int8 (COUNT, bigserial) arrives as text by default; our values fit in a double.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

export const postgresCapabilities: DialectCapabilities = {
  serialType: 'bigserial',
  serialColumn: (col) => col.primaryKey(),
  blobType: 'bytea',
  supportsSkipLocked: true,
  notifies: true,
  label: 'postgres',
};

export interface PostgresOptions {
  searchPath?: string;
  /** Shown in `pg_stat_activity.application_name`, so an operator (or a test) can find our backends. */
  applicationName?: string;
  /** This server's id, as `gantry.origin` on every connection: the events it appends carry it (src/cluster). */
  origin?: string;
  /** A connection of the pool failed (restart, failover, `pg_terminate_backend`); the pool replaces it. */
  onConnectionError?(err: Error): void;
}

/** `gantry`, or `gantry:<schema>` when the server uses a schema of its own (tests do). */
export function postgresApplicationName(schema?: string): string {
  return (schema ? `gantry:${schema}` : 'gantry').slice(0, 63);
}

export function createPostgresDialect(url: string, opts: PostgresOptions = {}): PostgresDialect {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    application_name: opts.applicationName ?? postgresApplicationName(opts.searchPath),
    ...(opts.searchPath || opts.origin ? { options: connectionOptions(opts) } : {}),
  });
  const onError = (err: Error) =>
    opts.onConnectionError
      ? opts.onConnectionError(err)
      : process.emitWarning(`PostgreSQL connection lost: ${err.message}`);
  // Without these listeners a dropped connection is an unhandled 'error' event: the process dies.
  // The pool reports idle clients; a checked-out client (held by a transaction between two
  // statements) reports on itself. A broken client is never returned to the pool.
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  return new PostgresDialect({ pool: retryingPool(pool) });
}

/** Session settings for every connection (the startup packet's `options`). */
function connectionOptions(opts: PostgresOptions): string {
  const settings = [
    ...(opts.searchPath ? [`-c search_path=${opts.searchPath}`] : []),
    ...(opts.origin ? [`-c gantry.origin=${opts.origin}`] : []),
  ];
  return settings.join(' ');
}

const READ_RETRIES = 3;

/**
 * Hands Kysely clients that run a read again (up to 3 times) on another connection when the connection
 * broke under it outside a transaction: a SELECT changes nothing, so repeating it is safe. Writes
 * and anything inside a transaction fail with the connection error (the HTTP layer answers 503).
 */
function retryingPool(pool: pg.Pool): PostgresPool {
  return {
    end: () => pool.end(),
    async connect(): Promise<PostgresPoolClient> {
      let client: pg.PoolClient | undefined = await pool.connect();
      let inTransaction = false;
      const run = (sql: string, params: ReadonlyArray<unknown>) => {
        if (!client) throw new Error('the PostgreSQL connection was lost and could not be replaced');
        return client.query(sql, [...params]);
      };
      return {
        // Kysely only streams with a cursor configured, and we configure none.
        query: (async (sql: string, params: ReadonlyArray<unknown>) => {
          const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toLowerCase();
          if (verb === 'begin' || verb === 'start') inTransaction = true;
          else if (verb === 'commit' || verb === 'rollback') inTransaction = false;
          for (let attempt = 1; ; attempt++) {
            try {
              return await run(sql, params);
            } catch (err) {
              if (inTransaction || verb !== 'select' || !isConnectionError(err) || attempt > READ_RETRIES)
                throw err;
              client?.release(err as Error);
              client = undefined;
              // When every connection dropped at once, the idle ones learn it a moment later: wait
              // for that, so that the retry does not pick another dead one.
              await new Promise((r) => setTimeout(r, 100 * attempt));
              client = await pool.connect();
            }
          }
        }) as unknown as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client?.release(destroy),
      };
    },
  };
}
