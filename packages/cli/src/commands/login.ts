import { hostname } from 'node:os';
import { ApiClient, ApiError } from '../api-client.js';
import { writeUserConfig } from '../cli-config.js';
import { CliError } from '../context.js';
import { readPassword } from '../terminal-input.js';
import { whereOf } from './token.js';

export interface LoginOptions {
  user?: string;
  passwordStdin?: boolean;
  expires?: string;
}

interface WhoAmI {
  kind: 'user' | 'token';
  name: string;
  groups: string[];
  bindings: { role: string; app: string | null; env: string | null }[];
}

/** One request of a console session (its cookie, and the CSRF token on changes), outside ApiClient's bearer tokens. */
async function sessionCall<T>(
  url: string,
  method: string,
  path: string,
  opts: { body?: unknown; cookie?: string; csrf?: string } = {},
): Promise<{ body: T; cookie: string | null }> {
  const headers: Record<string, string> = {};
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.csrf) headers['x-csrf-token'] = opts.csrf;
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new ApiError(0, 'Unreachable', `cannot reach the Gantry server at ${url} (${cause})`);
  }
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { message: text };
  }
  if (!res.ok) {
    const message = typeof parsed.message === 'string' ? parsed.message : res.statusText;
    throw new ApiError(res.status, String(parsed.error ?? res.status), message);
  }
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] || null;
  return { body: parsed as T, cookie };
}

/**
 * Signs in with a password, makes a personal token `cli@<host>` with the session (it acts with the
 * person's rights as they are at each request), and signs the session out again.
 */
async function personalToken(url: string, login: string, opts: LoginOptions): Promise<string> {
  const password = await readPassword({
    stdin: opts.passwordStdin,
    question: `password of ${login} at ${url}: `,
  });
  if (password === null || password === '')
    throw new CliError(
      `no password for ${login}: type it at a terminal, or pipe it in with --password-stdin (single sign-on accounts: make a token in the console and run \`gantry login <url> <token>\`)`,
    );
  const signIn = await sessionCall<{ csrfToken: string }>(url, 'POST', '/api/session', {
    body: { login, password },
  });
  if (!signIn.cookie) throw new CliError(`${url} answered the sign-in without a session cookie`);
  const session = { cookie: signIn.cookie, csrf: signIn.body.csrfToken };
  try {
    const created = await sessionCall<{ id: string; token: string; expiresAt: string | null }>(
      url,
      'POST',
      '/api/me/tokens',
      { ...session, body: { name: `cli@${hostname()}`, expires: opts.expires ?? '90d' } },
    );
    const until = created.body.expiresAt ? `until ${created.body.expiresAt}` : 'with no expiry';
    process.stderr.write(
      `made personal token ${created.body.id} (cli@${hostname()}, ${until}); \`gantry token revoke ${created.body.id}\` ends it\n`,
    );
    return created.body.token;
  } finally {
    await sessionCall(url, 'DELETE', '/api/session', session).catch(() => {});
  }
}

/** `gantry login <url> <token>`, or `gantry login <url> --user <login>` (a password, exchanged for a personal token). */
export async function loginCommand(
  rawUrl: string,
  given: string | undefined,
  opts: LoginOptions = {},
): Promise<void> {
  const url = rawUrl.replace(/\/$/, '');
  if (given !== undefined && opts.user !== undefined)
    throw new CliError('give a token or --user <login>, not both');
  if (given === undefined && opts.user === undefined)
    throw new CliError(
      'give a token (`gantry login <url> <token>`) or sign in as a person (`gantry login <url> --user <login>`)',
    );
  if (opts.user === undefined && (opts.passwordStdin || opts.expires !== undefined))
    throw new CliError('--password-stdin and --expires go with --user <login>');
  const token = given ?? (await personalToken(url, opts.user!.trim().toLowerCase(), opts));
  const api = new ApiClient({ url, token, source: 'login' });
  const me = await api.get<WhoAmI>('/api/whoami');
  // Replaces whatever was there: a pointer to a local server's data dir, or an older login.
  const file = await writeUserConfig({ url, token });
  if (opts.user === undefined) {
    process.stdout.write(`Logged in to ${url}; saved to ${file}\n`);
    return;
  }
  const roles = me.bindings.map((b) => `${b.role} on ${whereOf(b.app, b.env)}`).join(', ') || 'no role yet';
  process.stdout.write(`Logged in to ${url} as ${me.name} (${roles}); saved to ${file}\n`);
}
