import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../../db/database.js';
import type { EventStore } from '../../events/event-store.js';
import { checkEnvironmentName } from '../../git/ref-names.js';
import { newId, nowIso } from '../../ids.js';

export interface Principal {
  tokenId: string;
  name: string;
  role: string;
  /** Set for client tokens (fixed to one app and environment) and hook tokens (fixed to one app). */
  appId: string | null;
  env: string | null;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** API tokens, stored only as sha256 hashes. Lookups are cached for the request path. */
export class TokenService {
  private readonly cache = new Map<string, Principal | null>();

  constructor(
    private readonly db: Db,
    private readonly events: EventStore,
  ) {}

  /** `appId` binds the token to one app: required for `hook` tokens, which may only report that app's pushes. */
  async create(
    name: string,
    role: string,
    actor: string,
    appId: string | null = null,
  ): Promise<{ token: string; id: string }> {
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
        env: null,
      })
      .execute();
    await this.events.append({
      type: 'token.created',
      appId,
      subject: id,
      actor,
      data: { name, role },
    });
    this.cache.clear();
    return { token, id };
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
    const cached = this.cache.get(hash);
    if (cached !== undefined) return cached;
    const row = await this.db.selectFrom('tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
    const principal = row
      ? { tokenId: row.id, name: row.name, role: row.role, appId: row.app_id, env: row.env }
      : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, principal);
    return principal;
  }
}
