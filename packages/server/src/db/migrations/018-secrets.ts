import type { Kysely, Migration } from 'kysely';

/**
 * An app's secrets (features/secrets): one row per app, environment ('' for the app-wide value) and
 * name, the value sealed with AES-256-GCM under the key `key_id` (the IV and the ciphertext with its
 * tag, base64). Never the plaintext.
 */
export const secrets: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('secrets')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('iv', 'text', (c) => c.notNull())
      .addColumn('ciphertext', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .addUniqueConstraint('secrets_app_env_name', ['app_id', 'env', 'name'])
      .execute();
    await db.schema.createIndex('secrets_key_id').on('secrets').column('key_id').execute();
  },
};
