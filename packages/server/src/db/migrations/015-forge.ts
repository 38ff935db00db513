import type { Kysely, Migration } from 'kysely';

/**
 * Commit statuses and deployments back to an app's forge (features/forge): the settings an admin gave
 * (the token is write-only; issue 15 encrypts secrets at rest), and the forge's own id of each Gantry
 * deployment it was told about (GitHub's and GitLab's deployments are updated by that id).
 */
export const forge: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('forge_settings')
      .addColumn('app_id', 'text', (c) => c.primaryKey())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('api_url', 'text', (c) => c.notNull())
      .addColumn('repo', 'text', (c) => c.notNull())
      .addColumn('token', 'text', (c) => c.notNull())
      .addColumn('production_envs', 'text', (c) => c.notNull())
      .addColumn('after_event_id', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('forge_deployments')
      .addColumn('deployment_id', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('remote_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('forge_deployments_pk', ['deployment_id', 'provider'])
      .execute();
  },
};
