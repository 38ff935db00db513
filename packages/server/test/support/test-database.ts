import { type Database, openDatabase } from '../../src/db/database.js';
import { freshSchemaName, releaseSchema, type TestEngine } from './engines.js';
import { makeTempDir } from './git-fixtures.js';

/** A migrated database on the given engine: a fresh SQLite file, or a fresh PostgreSQL schema. */
export async function openTestDatabase(
  engine: TestEngine,
): Promise<Database & { dataDir: string; reopen(): Promise<Database> }> {
  const dataDir = await makeTempDir('gantry-db-');
  const schema = engine.name === 'postgres' ? freshSchemaName() : undefined;
  const database = await openDatabase({ url: engine.url, dataDir, schema });
  return {
    ...database,
    dataDir,
    reopen: () => openDatabase({ url: engine.url, dataDir, schema }),
    async close() {
      await database.close();
      if (schema && engine.url) await releaseSchema(engine.url, schema);
    },
  };
}
