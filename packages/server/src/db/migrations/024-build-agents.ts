import type { Kysely, Migration } from 'kysely';

/**
 * Remote build agents (features/agents): `builds.runs_on` holds the labels a build's gantry.yaml asks
 * for (JSON array; null for the servers' own runners), and `agents` the labels of each agent token
 * and when an agent last asked for work (a queued build says whether any agent could take it).
 */
export const buildAgents = (): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('builds').addColumn('runs_on', 'text').execute();
    await db.schema
      .createTable('agents')
      .addColumn('token_id', 'text', (c) => c.primaryKey())
      .addColumn('labels', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'text')
      .execute();
  },
});
