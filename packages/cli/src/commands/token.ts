import type { TokenInfo } from '@gantry/contracts';
import { roles } from '@gantry/contracts/roles';
import { CliError, client } from '../context.js';
import { ago, printJson, table } from '../output.js';

/** Every role a service token takes (metrics is the old name of metrics-reader), and hook. */
export const TOKEN_ROLES = [...roles, 'hook'] as const;

/** Where a role binding holds: every app, one app, or one environment of one app. */
export function whereOf(app: string | null, env: string | null): string {
  if (app === null) return 'every app';
  return env === null ? app : `${app}/${env}`;
}

export async function tokenCreate(
  name: string,
  opts: { role?: string; app?: string; env?: string; expires?: string; json?: boolean },
): Promise<void> {
  const role = opts.role ?? 'admin';
  if (!(TOKEN_ROLES as readonly string[]).includes(role) && role !== 'metrics')
    throw new CliError(
      `--role ${role}: one of ${TOKEN_ROLES.join(', ')} (\`gantry roles\` says what each grants)`,
    );
  if (opts.env !== undefined && opts.app === undefined)
    throw new CliError('--env binds the role to an environment of one app: give --app <app> too');
  const res = await (await client()).post<{ id: string; token: string; expiresAt: string | null }>(
    '/api/tokens',
    {
      name,
      role,
      ...(opts.app === undefined ? {} : { app: opts.app }),
      ...(opts.env === undefined ? {} : { env: opts.env }),
      ...(opts.expires === undefined ? {} : { expires: opts.expires }),
    },
  );
  if (opts.json) return printJson(res);
  process.stdout.write(`${res.token}\n`);
  const where = role === 'hook' ? `pushes of ${opts.app}` : whereOf(opts.app ?? null, opts.env ?? null);
  const until = res.expiresAt ? `expires ${res.expiresAt}` : 'never expires';
  process.stderr.write(
    `token ${res.id} (${role}) created for ${where}, ${until}; it is shown only now. Revoke it with \`gantry token revoke ${res.id}\`\n`,
  );
}

function expiryText(t: TokenInfo, now = Date.now()): string {
  if (!t.expiresAt) return 'never';
  return `${Date.parse(t.expiresAt) <= now ? 'expired ' : ''}${t.expiresAt.slice(0, 16).replace('T', ' ')}Z`;
}

export async function tokenList(opts: { mine?: boolean; json?: boolean }): Promise<void> {
  const tokens = await (await client()).get<TokenInfo[]>(opts.mine ? '/api/me/tokens' : '/api/tokens');
  if (opts.json) return printJson(tokens);
  table(
    tokens.map((t) => ({
      id: t.id,
      name: t.name,
      role: t.role,
      where:
        t.role === 'personal'
          ? `as ${t.user}`
          : t.role === 'hook'
            ? `pushes of ${t.app}`
            : whereOf(t.app, t.env),
      owner: t.user ?? '(service)',
      'last used': t.lastUsedAt ? ago(t.lastUsedAt) : 'never',
      expires: expiryText(t),
      revoked: t.revokedAt ? `${t.revokedAt.slice(0, 16).replace('T', ' ')}Z` : '',
    })),
    ['id', 'name', 'role', 'where', 'owner', 'last used', 'expires', 'revoked'],
  );
}

export async function tokenRevoke(id: string, opts: { json?: boolean }): Promise<void> {
  await (await client()).delete(`/api/tokens/${encodeURIComponent(id)}`);
  if (opts.json) return printJson({ id, revoked: true });
  process.stdout.write(`revoked ${id}: requests with it fail from now on and its event streams are closed\n`);
}
