import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Binds hook tokens made before hook tokens carried their app: `gantry hook install` named them
 * `hook:<app>`, so those are bound to that app. Any other unbound hook token stays unbound and is
 * refused with a message to reinstall the hook.
 */
export async function bindLegacyHookTokens(db: Kysely<unknown>): Promise<void> {
  await sql`UPDATE tokens SET app_id = (SELECT apps.id FROM apps WHERE 'hook:' || apps.name = tokens.name)
    WHERE role = 'hook' AND app_id IS NULL`.execute(db);
}

/**
 * `apps.removed_at`: a removed app keeps its row (history points at it) under a name no live app can
 * have, so the name can be added again. Hook tokens are bound to their app (`bindLegacyHookTokens`).
 */
export const appRemovalAndHookApps: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('apps').addColumn('removed_at', 'text').execute();
    await bindLegacyHookTokens(db);
  },
};
