import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../../db/database.js';
import { newId, nowIso } from '../../ids.js';
import { type Principal, tokenPrincipal } from '../auth/token-service.js';

export const SESSION_COOKIE = 'gantry_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface ConsoleSession {
  id: string;
  principal: Principal;
  csrf: string;
  createdAt: string;
  expiresAt: string;
}

export interface SessionLimits {
  /** A session ends this long after sign-in, whatever happens. */
  absoluteMs: number;
  /** …or after this long without a request. */
  idleMs: number;
}

const hashOf = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** `last_seen_at` is written at most this often per session, not on every request. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Console sessions. The cookie carries a random secret; the database keeps its hash, the CSRF token
 * the console sends back on every mutation, and the token the session acts as — revoking that token
 * ends its sessions, because each lookup joins it.
 */
export class SessionService {
  private users:
    | { principalOf(userId: string, tokenId?: string | null): Promise<Principal | null> }
    | undefined;

  constructor(
    private readonly db: Db,
    private readonly limits: SessionLimits,
  ) {}

  /** A person's session acts with their rights as they are now, looked up here on each request. */
  usePeople(users: {
    principalOf(userId: string, tokenId?: string | null): Promise<Principal | null>;
  }): void {
    this.users = users;
  }

  async create(principal: Principal): Promise<{ secret: string; session: ConsoleSession }> {
    const secret = randomBytes(32).toString('base64url');
    const now = Date.now();
    const session: ConsoleSession = {
      id: newId('ses'),
      principal,
      csrf: randomBytes(24).toString('base64url'),
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.limits.absoluteMs).toISOString(),
    };
    await this.db
      .insertInto('console_sessions')
      .values({
        id: session.id,
        hash: hashOf(secret),
        csrf: session.csrf,
        // A person's session is theirs, not their token's: it follows their roles as they change.
        token_id: principal.kind === 'user' ? null : principal.tokenId,
        user_id: principal.userId,
        created_at: session.createdAt,
        last_seen_at: session.createdAt,
        expires_at: session.expiresAt,
      })
      .execute();
    return { secret, session };
  }

  /** The live session for a cookie's secret, or null (unknown, expired, idle, or its token revoked). */
  async find(secret: string): Promise<ConsoleSession | null> {
    const row = await this.db
      .selectFrom('console_sessions as s')
      .leftJoin('tokens as t', 't.id', 's.token_id')
      .leftJoin('apps as a', 'a.id', 't.app_id')
      .select([
        'a.name as app_name',
        's.id',
        's.csrf',
        's.created_at',
        's.last_seen_at',
        's.expires_at',
        's.user_id',
        's.token_id as session_token',
        't.revoked_at',
        't.user_id as token_user',
        't.expires_at as token_expires_at',
        't.id as token_id',
        't.name',
        't.role',
        't.app_id',
        't.env',
      ])
      .where('s.hash', '=', hashOf(secret))
      .executeTakeFirst();
    if (!row) return null;
    const now = Date.now();
    // The token it signed in with was revoked, removed or has expired: the session ends with it.
    const tokenGone =
      row.session_token !== null &&
      (row.token_id === null ||
        row.revoked_at !== null ||
        (row.token_expires_at !== null && Date.parse(row.token_expires_at) <= now));
    const lastSeen = Date.parse(row.last_seen_at);
    if (tokenGone || now >= Date.parse(row.expires_at) || now - lastSeen >= this.limits.idleMs) {
      await this.db.deleteFrom('console_sessions').where('id', '=', row.id).execute();
      return null;
    }
    if (now - lastSeen >= TOUCH_EVERY_MS) {
      await this.db
        .updateTable('console_sessions')
        .set({ last_seen_at: nowIso() })
        .where('id', '=', row.id)
        .execute();
    }
    const principal =
      row.user_id !== null && row.session_token === null
        ? await this.users?.principalOf(row.user_id)
        : row.token_user !== null && row.token_id !== null
          ? await this.users?.principalOf(row.token_user, row.token_id)
          : row.token_id !== null && row.name !== null && row.role !== null
            ? tokenPrincipal({
                id: row.token_id,
                name: row.name,
                role: row.role,
                app_id: row.app_id,
                app_name: row.app_name,
                env: row.env,
              })
            : null;
    // A person disabled or removed since: no session.
    if (!principal) {
      await this.db.deleteFrom('console_sessions').where('id', '=', row.id).execute();
      return null;
    }
    return {
      id: row.id,
      csrf: row.csrf,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      // A stream opened in the session ends with it (its absolute timeout, or its token's expiry).
      principal: {
        ...principal,
        expiresAt: Math.min(
          Date.parse(row.expires_at),
          row.token_expires_at ? Date.parse(row.token_expires_at) : Number.POSITIVE_INFINITY,
        ),
      },
    };
  }

  /** Ends every session of a person (sign out everywhere); returns how many. */
  async endForUser(userId: string): Promise<number> {
    const res = await this.db.deleteFrom('console_sessions').where('user_id', '=', userId).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  async end(id: string): Promise<void> {
    await this.db.deleteFrom('console_sessions').where('id', '=', id).execute();
  }

  /** Expired sessions are removed as they are met; this sweeps the ones never met again. */
  async sweep(): Promise<number> {
    const res = await this.db
      .deleteFrom('console_sessions')
      .where('expires_at', '<=', nowIso())
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

/** Constant-time comparison of the CSRF header with the session's token. */
export function csrfMatches(session: ConsoleSession, header: unknown): boolean {
  if (typeof header !== 'string') return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(header);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** One cookie's value from a Cookie header. */
export function cookieValue(cookieHeader: string | undefined, name: string): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** The session secret from a Cookie header (no other cookie is read). */
export function sessionSecretOf(cookieHeader: string | undefined): string | undefined {
  return cookieValue(cookieHeader, SESSION_COOKIE);
}
