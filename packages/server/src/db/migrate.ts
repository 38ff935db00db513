import { type Kysely, type Migration, Migrator } from 'kysely';
import type { DialectCapabilities } from './dialects/dialect-capabilities.js';
import { initial } from './migrations/001-initial.js';
import { buildListIndexes } from './migrations/002-build-list-indexes.js';
import { deployments } from './migrations/003-deployments.js';
import { toggles } from './migrations/004-toggles.js';

/** One ordered list of migrations for both engines; engine differences come in through `caps`. */
function migrations(caps: DialectCapabilities): Record<string, Migration> {
  return {
    '001-initial': initial(caps),
    '002-build-list-indexes': buildListIndexes,
    '003-deployments': deployments,
    '004-toggles': toggles(caps),
  };
}

export async function migrateToLatest(db: Kysely<unknown>, caps: DialectCapabilities): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(caps) },
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const cause = error instanceof Error ? error.message : String(error);
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${cause}`);
  }
}
