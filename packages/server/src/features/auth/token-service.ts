import { createHash, randomBytes } from 'node:crypto';
import type { TokenInfo } from '@gantry/contracts';
import type { Db } from '../../db/database.js';
import { NotFound } from '../../errors.js';
import type { EventStore } from '../../events/event-store.js';
import { checkEnvironmentName } from '../../git/ref-names.js';
import { newId, nowIso } from '../../ids.js';
import { asRole, type Binding } from '../access/roles.js';

/** Who a request acts as: a person (signed in, or through a personal token) or a token. */
export interface Principal {
  kind: 'user' | 'token';
  /** The token the request carried; null for a person's console session. */
  tokenId: string | null;
  /** The person, for console sessions and personal tokens. */
  userId: string | null;
  /** The person's login, or the token's name. */
  name: string;
  /** The token's kind of role (`admin`, `deployer`…, `hook`, `client`, `frontend`), or `user`. */
  role: string;
  /** Set for client tokens (fixed to one app and environment) and hook tokens (fixed to one app). */
  appId: string | null;
  env: string | null;
  /** The person's groups (from single sign-on or given by an admin). */
  groups: string[];
  /** What the principal may do, where (features/access/roles.ts). */
  bindings: Binding[];
  /** When the token (or the console session) ends, epoch ms: open event streams close then. */
  expiresAt?: number | null;
}

/**
 * A service token's bindings: its role on every app, or on the app (and environment) it is bound
 * to. SDK and hook tokens have none: the routes made for them say so (`access: 'client'`…).
 */
export function tokenBindings(role: string, app: string | null = null, env: string | null = null): Binding[] {
  const r = asRole(role);
  return r ? [{ role: r, app, env: app === null ? null : env }] : [];
}

/** A token's row (with its app's name) as the principal a request acts as. */
export function tokenPrincipal(row: {
  id: string;
  name: string;
  role: string;
  app_id: string | null;
  app_name: string | null;
  env: string | null;
}): Principal {
  return {
    kind: 'token',
    tokenId: row.id,
    userId: null,
    name: row.name,
    role: row.role,
    appId: row.app_id,
    env: row.env,
    groups: [],
    bindings: tokenBindings(row.role, row.app_name, row.env),
  };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** What a token lookup needs of people: the rights of a personal token's owner. */
export interface TokenOwners {
  principalOf(userId: string, tokenId: string | null): Promise<Principal | null>;
}

/** A looked-up principal is kept this long: a change on another server reaches this one within it. */
const CACHE_MS = 5_000;
/** `last_used_at` is written at most this often per token. */
const TOUCH_EVERY_MS = 60_000;

/** API tokens, stored only as sha256 hashes. Lookups are cached briefly for the request path. */
export class TokenService {
  private readonly cache = new Map<
    string,
    { principal: Principal | null; until: number; expiresAt: number | null }
  >();
  private readonly touched = new Map<string, number>();
  private readonly revokedListeners: ((tokenIds: string[]) => void)[] = [];
  private owners: TokenOwners | undefined;

  constructor(
    private readonly db: Db,
    private readonly events: EventStore,
  ) {}

  /** Personal tokens act with their owner's rights, looked up here. */
  useOwners(owners: TokenOwners): void {
    this.owners = owners;
  }

  /** Told which tokens were revoked (their event streams close). */
  onRevoked(fn: (tokenIds: string[]) => void): void {
    this.revokedListeners.push(fn);
  }

  /**
   * Another server on the same database revoked these tokens (src/cluster relays its event): the
   * cached lookups go and their event streams on this server close too.
   */
  revokedElsewhere(tokenIds: string[]): void {
    this.cache.clear();
    for (const fn of this.revokedListeners) fn(tokenIds);
  }

  /** Forget cached principals (a person's roles changed). */
  forget(): void {
    this.cache.clear();
  }

  /**
   * `appId` binds the token to one app: required for `hook` tokens, which may only report that app's
   * pushes; `env` narrows a role to one environment of it. A personal token (`userId`) acts with its
   * owner's rights, never more; `expiresAt` ends it.
   */
  async create(
    name: string,
    role: string,
    actor: string,
    appId: string | null = null,
    env: string | null = null,
    opts: { userId?: string | null; expiresAt?: string | null } = {},
  ): Promise<{ token: string; id: string; expiresAt: string | null }> {
    const token = `gnt_${randomBytes(24).toString('base64url')}`;
    const id = newId('tok');
    await this.db
      .insertInto('tokens')
      .values({
        id,
        name,
        hash: hashToken(token),
        role,
        created_at: nowIso(),
        last_used_at: null,
        app_id: appId,
        env,
        user_id: opts.userId ?? null,
        expires_at: opts.expiresAt ?? null,
        revoked_at: null,
      })
      .execute();
    await this.events.append({
      type: 'token.created',
      appId,
      subject: id,
      actor,
      data: {
        name,
        role,
        ...(env ? { env } : {}),
        ...(opts.userId ? { personal: true } : {}),
        ...(opts.expiresAt ? { expiresAt: opts.expiresAt } : {}),
      },
    });
    this.cache.clear();
    return { token, id, expiresAt: opts.expiresAt ?? null };
  }

  /** Tokens people and services use (not SDK tokens, which their app lists), newest first; one person's when `userId`. */
  async list(opts: { userId?: string } = {}): Promise<TokenInfo[]> {
    let q = this.db
      .selectFrom('tokens as t')
      .leftJoin('apps as a', 'a.id', 't.app_id')
      .leftJoin('users as u', 'u.id', 't.user_id')
      .select([
        't.id',
        't.name',
        't.role',
        't.env',
        't.created_at',
        't.last_used_at',
        't.expires_at',
        't.revoked_at',
        'a.name as app',
        'u.login as user',
      ])
      .where('t.role', 'not in', ['client', 'frontend'])
      .orderBy('t.created_at', 'desc');
    if (opts.userId) q = q.where('t.user_id', '=', opts.userId);
    const rows = await q.execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      role: r.role,
      app: r.app,
      env: r.env,
      user: r.user,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
      expiresAt: r.expires_at,
      revokedAt: r.revoked_at,
    }));
  }

  /** The token's owner (null for a service token), or NotFound. */
  async ownerOf(id: string): Promise<{ userId: string | null; name: string; role: string }> {
    const row = await this.db
      .selectFrom('tokens')
      .select(['user_id', 'name', 'role'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new NotFound(`no token ${id}; GET /api/tokens lists them (\`gantry token list\`)`);
    return { userId: row.user_id, name: row.name, role: row.role };
  }

  /** Revokes a token: every request with it fails from now on, and its event streams close. */
  async revoke(id: string, actor: string): Promise<void> {
    const row = await this.ownerOf(id);
    await this.db
      .updateTable('tokens')
      .set({ revoked_at: nowIso() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    await this.events.append({
      type: 'token.revoked',
      appId: null,
      subject: id,
      actor,
      data: { name: row.name, role: row.role },
    });
    this.cache.clear();
    for (const fn of this.revokedListeners) fn([id]);
  }

  /**
   * An Unleash-style token `<app>:<env>.<secret>` fixed to that app and environment: `client` for
   * server-side SDKs (`/api/client`, `/ofrep`), `frontend` for browser and mobile SDKs (`/api/frontend`).
   */
  async createClientToken(
    app: { id: string; name: string },
    env: string,
    actor: string,
    kind: 'client' | 'frontend' = 'client',
  ): Promise<{ token: string; id: string; app: string; env: string; kind: 'client' | 'frontend' }> {
    checkEnvironmentName(env);
    const token = `${app.name}:${env}.${randomBytes(16).toString('hex')}`;
    const id = newId('tok');
    const name = `${kind}:${app.name}:${env}`;
    await this.db
      .insertInto('tokens')
      .values({
        id,
        name,
        hash: hashToken(token),
        role: kind,
        created_at: nowIso(),
        last_used_at: null,
        app_id: app.id,
        env,
      })
      .execute();
    await this.events.append({
      type: 'token.created',
      appId: app.id,
      subject: id,
      actor,
      data: { name, role: kind, env },
    });
    this.cache.clear();
    return { token, id, app: app.name, env, kind };
  }

  /** Revokes a person's personal tokens (they were removed); returns how many. */
  async revokeForUser(userId: string, actor: string): Promise<number> {
    const ids = (
      await this.db
        .selectFrom('tokens')
        .select('id')
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .execute()
    ).map((r) => r.id);
    for (const id of ids) await this.revoke(id, actor);
    return ids.length;
  }

  /** Deletes the tokens bound to an app (hook and client tokens), when the app is removed. */
  async revokeForApp(appId: string): Promise<number> {
    const res = await this.db.deleteFrom('tokens').where('app_id', '=', appId).executeTakeFirst();
    this.cache.clear();
    return Number(res.numDeletedRows);
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('tokens')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async verify(token: string): Promise<Principal | null> {
    const hash = hashToken(token);
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached !== undefined && cached.until > now && (cached.expiresAt === null || cached.expiresAt > now)) {
      if (cached.principal?.tokenId) this.touch(cached.principal.tokenId, now);
      return cached.principal;
    }
    const row = await this.db
      .selectFrom('tokens as t')
      .leftJoin('apps as a', 'a.id', 't.app_id')
      .select([
        't.id',
        't.name',
        't.role',
        't.app_id',
        't.env',
        't.user_id',
        't.expires_at',
        't.revoked_at',
        'a.name as app_name',
      ])
      .where('t.hash', '=', hash)
      .executeTakeFirst();
    const expiresAt = row?.expires_at ? Date.parse(row.expires_at) : null;
    let principal: Principal | null = null;
    if (row && row.revoked_at === null && (expiresAt === null || expiresAt > now)) {
      principal = row.user_id
        ? ((await this.owners?.principalOf(row.user_id, row.id)) ?? null)
        : tokenPrincipal(row);
      // Streams opened with the token end when it expires (http/event-stream.ts).
      if (principal) principal = { ...principal, expiresAt };
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { principal, until: now + CACHE_MS, expiresAt });
    if (principal?.tokenId) this.touch(principal.tokenId, now);
    return principal;
  }

  /** Records when a token was last used, at most once a minute per token, off the request path. */
  private touch(id: string, now: number): void {
    const last = this.touched.get(id) ?? 0;
    if (now - last < TOUCH_EVERY_MS) return;
    this.touched.set(id, now);
    if (this.touched.size > 10_000) this.touched.clear();
    void this.db
      .updateTable('tokens')
      .set({ last_used_at: new Date(now).toISOString() })
      .where('id', '=', id)
      .execute()
      .catch(() => this.touched.delete(id));
  }
}
