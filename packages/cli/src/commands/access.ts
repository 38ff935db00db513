import { roles } from '@gantry/contracts/roles';
import { CliError, client } from '../context.js';
import { printJson, table } from '../output.js';
import { readPassword } from '../terminal-input.js';
import { whereOf } from './token.js';

interface Binding {
  id: string;
  subject: string;
  role: string;
  app: string | null;
  env: string | null;
  createdAt: string;
  createdBy: string;
}

interface User {
  id: string;
  login: string;
  name: string | null;
  email: string | null;
  groups: string[];
  source: string;
  disabled: boolean;
  createdAt: string;
  bindings: Binding[];
}

/** `--group a --group b,c`: every name given, in order. */
export function collectGroups(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean),
  ];
}

/** `alice` means `user:alice`; `user:alice` and `group:ops` stay as they are. */
export function subjectOf(name: string): string {
  const s = name.trim();
  if (/^(user|group):/.test(s)) return s;
  if (s.includes(':'))
    throw new CliError(`${s}: a subject is user:<login> or group:<name> (a bare name is a user)`);
  return `user:${s}`;
}

/** The roles a person or group can be given (a hook is a token kind, not a role). */
export const ROLES = roles;

const userPath = (login: string) => `/api/users/${encodeURIComponent(login)}`;

function rolesText(bindings: Binding[], own: string): string {
  return bindings
    .map((b) => `${b.role}@${whereOf(b.app, b.env)}${b.subject === own ? '' : ` (${b.subject})`}`)
    .join(', ');
}

export async function userAdd(
  login: string,
  opts: {
    passwordStdin?: boolean;
    name?: string;
    email?: string;
    group?: string[];
    role?: string;
    app?: string;
    env?: string;
    json?: boolean;
  },
): Promise<void> {
  if ((opts.app !== undefined || opts.env !== undefined) && opts.role === undefined)
    throw new CliError('--app and --env say where --role holds: give --role <role> too');
  if (opts.env !== undefined && opts.app === undefined)
    throw new CliError('--env binds the role to an environment of one app: give --app <app> too');
  if (opts.role !== undefined && !(ROLES as readonly string[]).includes(opts.role))
    throw new CliError(
      `--role ${opts.role}: one of ${ROLES.join(', ')} (\`gantry roles\` says what each grants)`,
    );
  const api = await client();
  const password = await readPassword({
    stdin: opts.passwordStdin,
    question: `password for ${login} (at least 10 characters; empty: single sign-on only): `,
    confirm: true,
  });
  let user = await api.post<User>('/api/users', {
    login,
    ...(password ? { password } : {}),
    ...(opts.name === undefined ? {} : { name: opts.name }),
    ...(opts.email === undefined ? {} : { email: opts.email }),
    ...(opts.group?.length ? { groups: opts.group } : {}),
  });
  if (opts.role !== undefined) {
    await api
      .post<Binding>('/api/role-bindings', {
        subject: `user:${user.login}`,
        role: opts.role,
        ...(opts.app === undefined ? {} : { app: opts.app }),
        ...(opts.env === undefined ? {} : { env: opts.env }),
      })
      .catch((e: unknown) => {
        throw new CliError(
          `added ${user.login}, but not the role: ${e instanceof Error ? e.message : String(e)}; bind it with \`gantry grant ${user.login} ${opts.role}\``,
        );
      });
    user = await api.get<User>(userPath(user.login));
  }
  if (opts.json) return printJson(user);
  const how = password ? 'with a password' : 'with no password (single sign-on only)';
  const roles = rolesText(user.bindings, `user:${user.login}`);
  process.stdout.write(
    `added ${user.login} ${how}${user.groups.length ? `, in ${user.groups.join(', ')}` : ''}; ${
      roles ? `roles: ${roles}` : `no role yet: \`gantry grant ${user.login} <role>\``
    }\n`,
  );
}

export async function userList(opts: { json?: boolean }): Promise<void> {
  const users = await (await client()).get<User[]>('/api/users');
  if (opts.json) return printJson(users);
  table(
    users.map((u) => ({
      login: u.login,
      name: u.name ?? '',
      source: u.source,
      groups: u.groups.join(', '),
      roles: rolesText(u.bindings, `user:${u.login}`) || '(none)',
      state: u.disabled ? 'disabled' : 'active',
    })),
    ['login', 'name', 'source', 'groups', 'state', 'roles'],
  );
}

export async function userSet(
  login: string,
  opts: {
    group?: string[];
    clearGroups?: boolean;
    name?: string;
    email?: string;
    disable?: boolean;
    enable?: boolean;
    passwordStdin?: boolean;
    password?: boolean;
    json?: boolean;
  },
): Promise<void> {
  if (opts.disable && opts.enable) throw new CliError('--disable or --enable, not both');
  if (opts.group?.length && opts.clearGroups) throw new CliError('--group or --clear-groups, not both');
  const api = await client();
  const patch: Record<string, unknown> = {};
  if (opts.group?.length) patch.groups = opts.group;
  if (opts.clearGroups) patch.groups = [];
  if (opts.name !== undefined) patch.name = opts.name === '' ? null : opts.name;
  if (opts.email !== undefined) patch.email = opts.email === '' ? null : opts.email;
  if (opts.disable) patch.disabled = true;
  if (opts.enable) patch.disabled = false;
  if (opts.passwordStdin || opts.password) {
    const password = await readPassword({
      stdin: opts.passwordStdin,
      question: `new password for ${login}: `,
      confirm: true,
    });
    if (!password)
      throw new CliError('--password needs a terminal to type it at; pipe it in with --password-stdin');
    patch.password = password;
  }
  if (Object.keys(patch).length === 0)
    throw new CliError(
      'nothing to change: give --group, --clear-groups, --name, --email, --disable, --enable, --password or --password-stdin',
    );
  const user = await api.patch<User>(userPath(login), patch);
  if (opts.json) return printJson(user);
  const notes = [
    patch.disabled === true ? 'disabled: their sessions ended and their tokens stop working' : '',
    patch.disabled === false ? 'enabled' : '',
    patch.password ? 'password changed: their sessions ended' : '',
    patch.groups ? `groups: ${user.groups.join(', ') || '(none)'}` : '',
  ].filter(Boolean);
  process.stdout.write(`changed ${user.login}${notes.length ? `; ${notes.join('; ')}` : ''}\n`);
}

export async function userRemove(login: string, opts: { json?: boolean }): Promise<void> {
  await (await client()).delete(userPath(login));
  if (opts.json) return printJson({ login, removed: true });
  process.stdout.write(
    `removed ${login}: their sessions ended, their personal tokens are revoked, their own role bindings are gone\n`,
  );
}

export async function grantCommand(
  subject: string,
  role: string,
  opts: { app?: string; env?: string; json?: boolean },
): Promise<void> {
  if (opts.env !== undefined && opts.app === undefined)
    throw new CliError('--env binds the role to an environment of one app: give --app <app> too');
  const b = await (await client()).post<Binding>('/api/role-bindings', {
    subject: subjectOf(subject),
    role,
    ...(opts.app === undefined ? {} : { app: opts.app }),
    ...(opts.env === undefined ? {} : { env: opts.env }),
  });
  if (opts.json) return printJson(b);
  process.stdout.write(
    `granted ${b.role} on ${whereOf(b.app, b.env)} to ${b.subject} (binding ${b.id}; \`gantry ungrant ${b.id}\` takes it back)\n`,
  );
}

export async function grantsCommand(opts: { subject?: string; json?: boolean }): Promise<void> {
  let bindings = await (await client()).get<Binding[]>('/api/role-bindings');
  if (opts.subject) {
    const subject = subjectOf(opts.subject);
    bindings = bindings.filter((b) => b.subject === subject);
  }
  if (opts.json) return printJson(bindings);
  table(
    bindings.map((b) => ({
      id: b.id,
      subject: b.subject,
      role: b.role,
      where: whereOf(b.app, b.env),
      by: b.createdBy,
      when: `${b.createdAt.slice(0, 16).replace('T', ' ')}Z`,
    })),
    ['id', 'subject', 'role', 'where', 'by', 'when'],
  );
}

/** `ungrant <binding-id>`, or `ungrant <subject> <role> [--app] [--env]` for the one binding that matches. */
export async function ungrantCommand(
  idOrSubject: string,
  role: string | undefined,
  opts: { app?: string; env?: string; json?: boolean },
): Promise<void> {
  const api = await client();
  let id = idOrSubject;
  if (role !== undefined) {
    const subject = subjectOf(idOrSubject);
    const all = await api.get<Binding[]>('/api/role-bindings');
    const match = all.find(
      (b) =>
        b.subject === subject &&
        b.role === role &&
        b.app === (opts.app ?? null) &&
        b.env === (opts.env ?? null),
    );
    if (!match) {
      const theirs = all.filter((b) => b.subject === subject);
      throw new CliError(
        `${subject} has no ${role} on ${whereOf(opts.app ?? null, opts.env ?? null)}; it has ${
          theirs.map((b) => `${b.role} on ${whereOf(b.app, b.env)}`).join(', ') || 'no role binding'
        } (\`gantry grants\`)`,
      );
    }
    id = match.id;
  } else if (opts.app !== undefined || opts.env !== undefined) {
    throw new CliError(
      '--app and --env go with `gantry ungrant <subject> <role>`; a binding id names one already',
    );
  }
  await api.delete(`/api/role-bindings/${encodeURIComponent(id)}`);
  if (opts.json) return printJson({ id, removed: true });
  process.stdout.write(`removed role binding ${id}\n`);
}

export async function rolesCommand(opts: { json?: boolean }): Promise<void> {
  const roles = await (await client()).get<{ role: string; description: string; permissions: string[] }[]>(
    '/api/roles',
  );
  if (opts.json) return printJson(roles);
  table(
    roles.map((r) => ({ role: r.role, grants: r.description, permissions: r.permissions.join(' ') })),
    ['role', 'grants', 'permissions'],
  );
}

export async function whoamiCommand(opts: { json?: boolean }): Promise<void> {
  const api = await client();
  const me = await api.get<{
    kind: 'user' | 'token';
    name: string;
    groups: string[];
    bindings: { role: string; app: string | null; env: string | null }[];
    permissions: string[];
  }>('/api/whoami');
  if (opts.json) return printJson({ ...me, url: api.target.url, source: api.target.source });
  const out = process.stdout;
  out.write(`${me.kind} ${me.name} at ${api.target.url}\n`);
  if (me.kind === 'user') out.write(`groups: ${me.groups.join(', ') || '(none)'}\n`);
  out.write(
    `roles: ${me.bindings.map((b) => `${b.role} on ${whereOf(b.app, b.env)}`).join(', ') || '(none: ask an admin to `gantry grant` one)'}\n`,
  );
  out.write(`may: ${me.permissions.join(' ') || '(nothing)'}\n`);
}
