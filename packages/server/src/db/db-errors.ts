/** A write refused because a row with the same unique key exists (SQLite or PostgreSQL). */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

const CONNECTION_CODES = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, a fast shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, in recovery
  '53300', // too_many_connections
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

/**
 * The database connection broke or could not be made (restart, failover, `pg_terminate_backend`),
 * as opposed to a query the database refused. The request may succeed when sent again.
 */
export function isConnectionError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  // node-postgres reports a socket that closed under a query, or a client that is no longer usable, by message only.
  return (
    typeof message === 'string' &&
    /^(Connection terminated|Client has encountered a connection error|Client was closed)/.test(message)
  );
}

/** What to tell a client about a connection error: the reason, without the details of the database. */
export function connectionErrorReason(err: unknown): string {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (code === '57P01' || code === '57P02') return 'the database closed the connection';
  if (code === '57P03') return 'the database is starting up or recovering';
  if (code === '53300') return 'the database has no free connections';
  if (typeof code === 'string' && code.startsWith('E')) return `the database is unreachable (${code})`;
  return typeof message === 'string' && message.startsWith('Connection terminated')
    ? 'the connection to the database was lost'
    : 'the database connection failed';
}
