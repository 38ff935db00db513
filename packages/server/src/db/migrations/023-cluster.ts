import { type Kysely, type Migration, sql } from 'kysely';
import type { DialectCapabilities } from '../dialects/dialect-capabilities.js';

/**
 * Several servers on one database (src/cluster): each event row records the server that appended it
 * (`origin`, from the session setting `gantry.origin` each server's connections carry), and on
 * PostgreSQL a committed event or toggle revision is announced on the schema's channel (NOTIFY is
 * delivered at commit, in commit order, and never for a rolled-back transaction). Failed password
 * sign-ins and single sign-ons waiting for the provider live here too, so every server honours them.
 */
export const cluster = (caps: DialectCapabilities): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('events').addColumn('origin', 'text').execute();
    if (caps.notifies) {
      // Added apart from the column, so the events already there keep no origin (no server's).
      await sql`ALTER TABLE events ALTER COLUMN origin SET DEFAULT current_setting('gantry.origin', true)`.execute(
        db,
      );
      await sql`CREATE FUNCTION gantry_notify_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gantry_' || md5(TG_TABLE_SCHEMA), json_build_array('e', NEW.origin, NEW.id)::text);
  RETURN NULL;
END $$`.execute(db);
      await sql`CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION gantry_notify_event()`.execute(
        db,
      );
      await sql`CREATE FUNCTION gantry_notify_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gantry_' || md5(TG_TABLE_SCHEMA),
    json_build_array('r', current_setting('gantry.origin', true), NEW.app_id, NEW.env, NEW.revision)::text);
  RETURN NULL;
END $$`.execute(db);
      await sql`CREATE TRIGGER toggle_revisions_notify AFTER INSERT OR UPDATE ON toggle_revisions FOR EACH ROW EXECUTE FUNCTION gantry_notify_revision()`.execute(
        db,
      );
    }

    // One row per failed sign-in and key (`login:<name>`, `addr:<ip>`), kept for the window.
    await db.schema
      .createTable('sign_in_failures')
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('sign_in_failures_key')
      .on('sign_in_failures')
      .columns(['key', 'at_ms'])
      .execute();
    await db.schema.createIndex('sign_in_failures_at').on('sign_in_failures').column('at_ms').execute();

    // A single sign-on sent to the provider, by its state: taken (deleted) by the one callback that uses it.
    await db.schema
      .createTable('pending_sign_ins')
      .addColumn('state', 'text', (c) => c.primaryKey())
      .addColumn('login', 'text', (c) => c.notNull())
      .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('pending_sign_ins_expiry')
      .on('pending_sign_ins')
      .column('expires_at_ms')
      .execute();
  },
});
