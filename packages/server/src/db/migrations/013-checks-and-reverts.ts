import type { Kysely, Migration } from 'kysely';

/**
 * The QA gate: `deployments.verification` (the post-deploy checks of a succeeded deployment:
 * verifying, verified, check_failed, superseded; null without checks), `check_runs` (each run of
 * each check, with its output) and `reverts` (finding and reverting the commit that failed the
 * auto-deployed environment's checks: one row per failed deployment, and at most one revert per
 * blamed commit, which the unique index guarantees across restarts and servers).
 */
export const checksAndReverts: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('deployments').addColumn('verification', 'text').execute();
    await db.schema
      .createTable('check_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('deployment_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('output', 'text', (c) => c.notNull())
      .addColumn('error', 'text')
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .addColumn('ms', 'integer')
      .execute();
    await db.schema.createIndex('check_runs_deployment').on('check_runs').column('deployment_id').execute();
    await db.schema
      .createTable('reverts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('deployment_id', 'text', (c) => c.notNull().unique())
      .addColumn('sha', 'text', (c) => c.notNull())
      .addColumn('good_sha', 'text')
      .addColumn('check_name', 'text')
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('blamed_sha', 'text')
      .addColumn('revert_sha', 'text')
      .addColumn('branch', 'text')
      .addColumn('incident_id', 'text')
      .addColumn('why', 'text')
      .addColumn('steps', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    // One revert per blamed commit, ever: a second failure blamed on it finds the first.
    await db.schema
      .createTable('reverted_commits')
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('sha', 'text', (c) => c.notNull())
      .addColumn('revert_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('reverted_commits_pk', ['app_id', 'sha'])
      .execute();
  },
};
