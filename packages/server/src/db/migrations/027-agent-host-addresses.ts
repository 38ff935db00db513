import type { Kysely, Migration } from 'kysely';

/**
 * Where each host's agent is reached (`gantry agent --address`, sent with every ask): the status of
 * an environment on deploy agents gives its hosts' addresses, not the server's.
 */
export const agentHostAddresses = (): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('agent_hosts').addColumn('address', 'text').execute();
  },
});
