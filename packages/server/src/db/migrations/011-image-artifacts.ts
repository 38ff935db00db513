import type { Kysely, Migration } from 'kysely';

/**
 * Image artifacts: `artifacts.kind` (`tarball`, the default, so every existing row stays one, or
 * `image`) and `artifacts.reference` (`<registry>/<repository>@sha256:…` for images); and
 * `apps.registry`, an admin-set registry for the app's images (JSON, credentials only by name).
 */
export const imageArtifacts: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('artifacts')
      .addColumn('kind', 'text', (c) => c.notNull().defaultTo('tarball'))
      .execute();
    await db.schema.alterTable('artifacts').addColumn('reference', 'text').execute();
    await db.schema.alterTable('apps').addColumn('registry', 'text').execute();
  },
};
