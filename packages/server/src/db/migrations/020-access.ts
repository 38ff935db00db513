import type { Kysely, Migration } from 'kysely';

/**
 * People and their roles (features/users, features/access): users (local accounts with an argon2id
 * hash, or accounts from single sign-on keyed by issuer and subject), role bindings on a user or a
 * group (`user:<login>`, `group:<name>`) for every app, one app or one environment of it; tokens
 * that belong to a person, expire and are revoked. Console sessions are made again: a session now
 * belongs to a person or to a token (every session signed in before is ended, once).
 */
export const access: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('login', 'text', (c) => c.notNull().unique())
      .addColumn('name', 'text')
      .addColumn('email', 'text')
      .addColumn('password_hash', 'text')
      .addColumn('groups', 'text', (c) => c.notNull())
      .addColumn('issuer', 'text')
      .addColumn('subject', 'text')
      .addColumn('disabled', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('users_external')
      .on('users')
      .columns(['issuer', 'subject'])
      .unique()
      .execute();
    await db.schema
      .createTable('role_bindings')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('app', 'text')
      .addColumn('env', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('role_bindings_subject').on('role_bindings').column('subject').execute();
    await db.schema.alterTable('tokens').addColumn('user_id', 'text').execute();
    await db.schema.alterTable('tokens').addColumn('expires_at', 'text').execute();
    await db.schema.alterTable('tokens').addColumn('revoked_at', 'text').execute();
    await db.schema.createIndex('tokens_user').on('tokens').column('user_id').execute();
    await db.schema.dropTable('console_sessions').execute();
    await db.schema
      .createTable('console_sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('hash', 'text', (c) => c.notNull().unique())
      .addColumn('csrf', 'text', (c) => c.notNull())
      .addColumn('token_id', 'text')
      .addColumn('user_id', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('console_sessions_token').on('console_sessions').column('token_id').execute();
    await db.schema.createIndex('console_sessions_user').on('console_sessions').column('user_id').execute();
  },
};
