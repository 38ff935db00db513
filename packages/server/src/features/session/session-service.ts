import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../../db/database.js';
import { newId, nowIso } from '../../ids.js';
import type { Principal } from '../auth/token-service.js';

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
  constructor(
    private readonly db: Db,
    private readonly limits: SessionLimits,
  ) {}

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
        token_id: principal.tokenId,
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
      .innerJoin('tokens as t', 't.id', 's.token_id')
      .select([
        's.id',
        's.csrf',
        's.created_at',
        's.last_seen_at',
        's.expires_at',
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
    const lastSeen = Date.parse(row.last_seen_at);
    if (now >= Date.parse(row.expires_at) || now - lastSeen >= this.limits.idleMs) {
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
    return {
      id: row.id,
      csrf: row.csrf,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      principal: { tokenId: row.token_id, name: row.name, role: row.role, appId: row.app_id, env: row.env },
    };
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

/** The session secret from a Cookie header (no other cookie is read). */
export function sessionSecretOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}
