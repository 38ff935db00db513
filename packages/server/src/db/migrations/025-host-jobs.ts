import type { Kysely, Migration } from 'kysely';

/**
 * Deploy agents (features/agents/host-jobs.ts): an environment with `hosts` in gantry.yaml runs its
 * driver on the agents holding those host labels. `agent_hosts` says which agent process holds each
 * host (a lease it renews while it asks for work, so one machine serves a host at a time), and
 * `host_jobs` carries each driver call (deploy, health, stop, traffic) to it and its result.
 */
export const hostJobs = (): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('agent_hosts')
      .addColumn('host', 'text', (c) => c.primaryKey())
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('instance', 'text', (c) => c.notNull())
      .addColumn('seen_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('host_jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('app', 'text', (c) => c.notNull())
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('result', 'text')
      .addColumn('error', 'text')
      .addColumn('instance', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('claimed_at', 'text')
      .addColumn('finished_at', 'text')
      .execute();
    await db.schema
      .createIndex('host_jobs_queue')
      .on('host_jobs')
      .columns(['status', 'host', 'id'])
      .execute();
  },
});
