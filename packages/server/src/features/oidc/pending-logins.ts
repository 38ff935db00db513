import type { Db } from '../../db/database.js';
import type { PendingLogin } from './oidc-client.js';

/** A sign-in must come back from the provider within this long. */
export const PENDING_TTL_MS = 10 * 60_000;
/** At most this many sign-ins wait at once (the login route is public); the oldest go first. */
const MAX_PENDING = 10_000;

/**
 * Sign-ins sent to the provider and not back yet, by their `state`, kept in the database
 * (`pending_sign_ins`, migration 023): the PKCE code verifier and the nonce never leave the servers,
 * and the provider may send the browser back to any server on the same database. Each is taken once
 * — a callback, good or bad, uses it up (a DELETE … RETURNING, so two servers cannot both take it).
 */
export class PendingLogins {
  constructor(private readonly db: Db) {}

  async add(login: PendingLogin, now = Date.now()): Promise<void> {
    await this.db.deleteFrom('pending_sign_ins').where('expires_at_ms', '<=', now).execute();
    const { n } = await this.db
      .selectFrom('pending_sign_ins')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const over = Number(n) - MAX_PENDING + 1;
    if (over > 0) {
      const oldest = this.db
        .selectFrom('pending_sign_ins')
        .select('state')
        .orderBy('expires_at_ms', 'asc')
        .limit(over);
      await this.db.deleteFrom('pending_sign_ins').where('state', 'in', oldest).execute();
    }
    await this.db
      .insertInto('pending_sign_ins')
      .values({ state: login.state, login: JSON.stringify(login), expires_at_ms: now + PENDING_TTL_MS })
      .execute();
  }

  /** The sign-in for a state, removed as it is taken; undefined when unknown, used or too old. */
  async take(state: string, now = Date.now()): Promise<PendingLogin | undefined> {
    const row = await this.db
      .deleteFrom('pending_sign_ins')
      .where('state', '=', state)
      .returning(['login', 'expires_at_ms'])
      .executeTakeFirst();
    if (!row || Number(row.expires_at_ms) <= now) return undefined;
    return JSON.parse(row.login) as PendingLogin;
  }

  /** How many wait (expired ones included until the next sign-in sweeps them). */
  async size(): Promise<number> {
    const { n } = await this.db
      .selectFrom('pending_sign_ins')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(n);
  }
}
