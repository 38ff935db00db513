import type { Db } from '../../db/database.js';
import { Conflict, InvalidInput, NotFound } from '../../errors.js';
import type { EventStore } from '../../events/event-store.js';
import { checkEnvironmentName } from '../../git/ref-names.js';
import { newId, nowIso } from '../../ids.js';
import { asRole, type Binding, roles } from '../access/roles.js';
import type { Principal } from '../auth/token-service.js';
import { hashPassword, passwordMatches, passwordProblem } from './passwords.js';

/** A person as the API shows them: never the password hash. */
export interface User {
  id: string;
  login: string;
  name: string | null;
  email: string | null;
  groups: string[];
  /** `local` (a password here) or the single sign-on issuer. */
  source: string;
  disabled: boolean;
  createdAt: string;
  bindings: RoleBinding[];
}

export interface RoleBinding extends Binding {
  id: string;
  /** `user:<login>` or `group:<name>`. */
  subject: string;
  createdAt: string;
  createdBy: string;
}

export const loginPattern = /^[a-z0-9][a-z0-9._@-]{0,99}$/;
const groupPattern = /^[A-Za-z0-9][A-Za-z0-9._:@/ -]{0,199}$/;

type UserRow = {
  id: string;
  login: string;
  name: string | null;
  email: string | null;
  password_hash: string | null;
  groups: string;
  issuer: string | null;
  disabled: number;
  created_at: string;
};

function checkLogin(login: string): string {
  if (!loginPattern.test(login))
    throw new InvalidInput(
      `login "${login}": lowercase letters, digits and . _ @ -, starting with a letter or digit (at most 100)`,
      { field: 'login' },
    );
  return login;
}

function checkGroups(groups: readonly string[]): string[] {
  for (const g of groups)
    if (!groupPattern.test(g))
      throw new InvalidInput(`group "${g}": letters, digits, spaces and . _ : @ / -`, { field: 'groups' });
  return [...new Set(groups)];
}

/**
 * People, their groups and the roles bound to them or their groups. A principal's bindings are its
 * own plus its groups'; a disabled person has none and cannot sign in.
 */
export class UserService {
  private changed: () => void = () => {};

  constructor(
    private readonly db: Db,
    private readonly events: EventStore,
  ) {}

  /** Told when a person or a binding changes (token lookups cache principals). */
  onChange(fn: () => void): void {
    this.changed = fn;
  }

  async add(
    input: { login: string; password?: string; name?: string; email?: string; groups?: string[] },
    actor: string,
  ): Promise<User> {
    const login = checkLogin(input.login);
    if (input.password !== undefined) {
      const problem = passwordProblem(input.password);
      if (problem) throw new InvalidInput(problem, { field: 'password' });
    }
    const groups = checkGroups(input.groups ?? []);
    if (await this.row(login))
      throw new Conflict(`user "${login}" exists; change it with PATCH /api/users/${login}`);
    await this.insert(
      {
        login,
        name: input.name ?? null,
        email: input.email ?? null,
        password_hash: input.password === undefined ? null : await hashPassword(input.password),
        groups,
        issuer: null,
        subject: null,
      },
      actor,
    );
    return this.get(login);
  }

  /** A person from single sign-on: made on first sign-in, their name and groups refreshed on each. */
  async upsertExternal(u: {
    issuer: string;
    subject: string;
    login: string;
    name?: string | null;
    email?: string | null;
    groups: string[];
  }): Promise<{ id: string; login: string; disabled: boolean }> {
    const groups = checkGroups(u.groups.filter((g) => groupPattern.test(g)));
    const at = nowIso();
    const existing = await this.db
      .selectFrom('users')
      .select(['id', 'login', 'disabled'])
      .where('issuer', '=', u.issuer)
      .where('subject', '=', u.subject)
      .executeTakeFirst();
    if (existing) {
      await this.db
        .updateTable('users')
        .set({ name: u.name ?? null, email: u.email ?? null, groups: JSON.stringify(groups), updated_at: at })
        .where('id', '=', existing.id)
        .execute();
      this.changed();
      return { id: existing.id, login: existing.login, disabled: existing.disabled === 1 };
    }
    let login = checkLogin(
      u.login
        .slice(0, 90)
        .toLowerCase()
        .replace(/[^a-z0-9._@-]/g, '-')
        .replace(/^[^a-z0-9]+/, '') || 'user',
    );
    // A local account of that login is another person: the provider's one gets a suffix.
    if (await this.row(login))
      login = `${login}-${u.subject
        .replace(/[^a-z0-9]/gi, '')
        .slice(0, 8)
        .toLowerCase()}`;
    const id = await this.insert(
      {
        login,
        name: u.name ?? null,
        email: u.email ?? null,
        password_hash: null,
        groups,
        issuer: u.issuer,
        subject: u.subject,
      },
      `oidc:${u.issuer}`,
    );
    return { id, login, disabled: false };
  }

  async update(
    login: string,
    patch: {
      password?: string;
      name?: string | null;
      email?: string | null;
      groups?: string[];
      disabled?: boolean;
    },
    actor: string,
  ): Promise<User> {
    const row = await this.mustRow(login);
    const set: Record<string, unknown> = { updated_at: nowIso() };
    if (patch.password !== undefined) {
      const problem = passwordProblem(patch.password);
      if (problem) throw new InvalidInput(problem, { field: 'password' });
      set.password_hash = await hashPassword(patch.password);
    }
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.email !== undefined) set.email = patch.email;
    if (patch.groups !== undefined) set.groups = JSON.stringify(checkGroups(patch.groups));
    if (patch.disabled !== undefined) set.disabled = patch.disabled ? 1 : 0;
    await this.db.updateTable('users').set(set).where('id', '=', row.id).execute();
    await this.events.append({
      type: 'user.changed',
      appId: null,
      subject: login,
      actor,
      data: {
        login,
        fields: Object.keys(patch).filter((k) => k !== 'password'),
        password: patch.password !== undefined,
      },
    });
    this.changed();
    return this.get(login);
  }

  async remove(login: string, actor: string): Promise<void> {
    const row = await this.mustRow(login);
    await this.db.deleteFrom('role_bindings').where('subject', '=', `user:${login}`).execute();
    await this.db.deleteFrom('users').where('id', '=', row.id).execute();
    await this.events.append({ type: 'user.removed', appId: null, subject: login, actor, data: { login } });
    this.changed();
  }

  /** A new person, and its `user.added` event; its id. */
  private async insert(
    u: Pick<UserRow, 'login' | 'name' | 'email' | 'password_hash' | 'issuer'> & {
      subject: string | null;
      groups: string[];
    },
    actor: string,
  ): Promise<string> {
    const at = nowIso();
    const id = newId('usr');
    await this.db
      .insertInto('users')
      .values({ ...u, id, groups: JSON.stringify(u.groups), disabled: 0, created_at: at, updated_at: at })
      .execute();
    await this.events.append({
      type: 'user.added',
      appId: null,
      subject: u.login,
      actor,
      data: { login: u.login, groups: u.groups },
    });
    return id;
  }

  async list(): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('login').execute();
    const bindings = await this.allBindings();
    return rows.map((r) => this.userOf(r, bindings));
  }

  async get(login: string): Promise<User> {
    return this.userOf(await this.mustRow(login), await this.allBindings());
  }

  /** Checks a password; null for an unknown login, a wrong password, no local password or a disabled account — as slow for each. */
  async checkPassword(login: string, password: string): Promise<{ id: string; login: string } | null> {
    const row = loginPattern.test(login) ? await this.row(login) : undefined;
    const ok = await passwordMatches(row?.password_hash ?? null, password);
    if (!ok || !row || row.disabled === 1) return null;
    return { id: row.id, login: row.login };
  }

  /** The principal a person acts as (a session or a personal token), or null when gone or disabled. */
  async principalOf(userId: string, tokenId: string | null = null): Promise<Principal | null> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
    if (!row || row.disabled === 1) return null;
    const groups = JSON.parse(row.groups) as string[];
    const subjects = [`user:${row.login}`, ...groups.map((g) => `group:${g}`)];
    const rows = await this.db
      .selectFrom('role_bindings')
      .selectAll()
      .where('subject', 'in', subjects)
      .execute();
    const bindings: Binding[] = [];
    for (const b of rows) {
      const role = asRole(b.role);
      if (role) bindings.push({ role, app: b.app, env: b.env });
    }
    return {
      kind: 'user',
      tokenId,
      userId: row.id,
      name: row.login,
      role: 'user',
      appId: null,
      env: null,
      groups,
      bindings,
    };
  }

  async grant(
    input: { subject: string; role: string; app?: string | null; env?: string | null },
    actor: string,
  ): Promise<RoleBinding> {
    const subject = input.subject.trim();
    const m = /^(user|group):(.+)$/.exec(subject);
    if (!m) throw new InvalidInput('subject: `user:<login>` or `group:<name>`', { field: 'subject' });
    if (m[1] === 'user') await this.mustRow(m[2] as string);
    else checkGroups([m[2] as string]);
    const role = asRole(input.role);
    if (!role) throw new InvalidInput(`role "${input.role}": one of ${roles.join(', ')}`, { field: 'role' });
    const app = input.app ?? null;
    const env = input.env ?? null;
    if (env !== null && app === null)
      throw new InvalidInput('env: a role is bound to an environment of one app; name the app too', {
        field: 'env',
      });
    if (env !== null) checkEnvironmentName(env);
    const b: RoleBinding = {
      id: newId('rb'),
      subject,
      role,
      app,
      env,
      createdAt: nowIso(),
      createdBy: actor,
    };
    await this.db
      .insertInto('role_bindings')
      .values({ id: b.id, subject, role, app, env, created_at: b.createdAt, created_by: actor })
      .execute();
    await this.events.append({ type: 'role.granted', appId: null, subject, actor, data: { role, app, env } });
    this.changed();
    return b;
  }

  async revoke(id: string, actor: string): Promise<void> {
    const row = await this.db.selectFrom('role_bindings').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFound(`no role binding ${id}; GET /api/role-bindings lists them`);
    await this.db.deleteFrom('role_bindings').where('id', '=', id).execute();
    await this.events.append({
      type: 'role.revoked',
      appId: null,
      subject: row.subject,
      actor,
      data: { role: row.role, app: row.app, env: row.env },
    });
    this.changed();
  }

  async bindings(): Promise<RoleBinding[]> {
    return this.allBindings();
  }

  private async allBindings(): Promise<RoleBinding[]> {
    const rows = await this.db.selectFrom('role_bindings').selectAll().orderBy('created_at').execute();
    return rows.flatMap((r) => {
      const role = asRole(r.role);
      return role
        ? [
            {
              id: r.id,
              subject: r.subject,
              role,
              app: r.app,
              env: r.env,
              createdAt: r.created_at,
              createdBy: r.created_by,
            },
          ]
        : [];
    });
  }

  private userOf(r: UserRow, all: RoleBinding[]): User {
    const groups = JSON.parse(r.groups) as string[];
    const subjects = new Set([`user:${r.login}`, ...groups.map((g) => `group:${g}`)]);
    return {
      id: r.id,
      login: r.login,
      name: r.name,
      email: r.email,
      groups,
      source: r.issuer ?? 'local',
      disabled: r.disabled === 1,
      createdAt: r.created_at,
      bindings: all.filter((b) => subjects.has(b.subject)),
    };
  }

  private row(login: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('login', '=', login).executeTakeFirst();
  }

  private async mustRow(login: string): Promise<UserRow> {
    const row = await this.row(login);
    if (!row) throw new NotFound(`no user "${login}"; GET /api/users lists them (\`gantry user list\`)`);
    return row;
  }
}
