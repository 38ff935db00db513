import type { Kysely, Migration } from 'kysely';

/**
 * Console sign-in sessions: a token is exchanged once for a session whose id travels only in an
 * HttpOnly cookie. Only hashes are stored; a session ends when signed out, expired, idle too long,
 * or when its token is revoked.
 */
export const consoleSessions: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('console_sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('hash', 'text', (c) => c.notNull().unique())
      .addColumn('csrf', 'text', (c) => c.notNull())
      .addColumn('token_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('console_sessions_token').on('console_sessions').column('token_id').execute();
  },
};
