import type { Kysely, Migration } from 'kysely';

/**
 * What each SDK instance last fetched (`/api/client/features`, `/delta`, `/streaming`): the
 * revision and ETag, when and how, and the client token it used, so a team can see which
 * instances still evaluate an old revision.
 */
export const toggleClientFetches: Migration = {
  async up(db: Kysely<unknown>) {
    for (const [name, type] of [
      ['token_id', 'text'],
      ['token_name', 'text'],
      ['fetch_revision', 'bigint'],
      ['fetch_etag', 'text'],
      ['fetch_mode', 'text'],
      ['fetch_at', 'text'],
    ] as const) {
      await db.schema.alterTable('toggle_clients').addColumn(name, type).execute();
    }
  },
};
