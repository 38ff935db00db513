/**
 * Single sign-on for the console (docs/access.md, "Single sign-on (OpenID Connect)"):
 * GET /api/session/oidc says whether it is configured, /login sends the browser to the provider,
 * /callback brings it back, makes or refreshes the person from the provider's claims and starts a
 * console session with the roles their groups are bound to. A failed sign-in answers 4xx (502 when
 * the provider cannot be reached) with what happened and what to do, as a page or JSON, and never
 * starts a session.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Db } from '../../db/database.js';
import { GantryError } from '../../errors.js';
import { mapError } from '../../http/error-mapper.js';
import type { TypedApp } from '../../http/route-kit.js';
import type { Principal } from '../auth/token-service.js';
import { secureFlag, sessionCookie } from '../session/session-routes.js';
import { cookieValue } from '../session/session-service.js';
import { OidcClient, OidcFailure, type OidcIdentity } from './oidc-client.js';
import type { OidcConfig } from './oidc-config.js';
import { PENDING_TTL_MS, PendingLogins } from './pending-logins.js';

/** The people service as single sign-on uses it (features/users). */
export interface OidcUsers {
  /** Makes the person on their first sign-in, refreshes their name, e-mail and groups on each. */
  upsertExternal(u: OidcIdentity): Promise<{ id: string; login: string; disabled?: boolean }>;
  principalOf(userId: string): Promise<Principal | null>;
}

/** Console sessions as single sign-on starts them (features/session). */
export interface OidcSessions {
  create(principal: Principal): Promise<{ secret: string; session: { expiresAt: string } }>;
}

export interface OidcRoutesDeps {
  config: { oidc?: OidcConfig };
  site: { url?: string };
  users: OidcUsers;
  sessions: OidcSessions;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** Where sign-ins wait for the provider, so the callback may reach any server on the database. */
  database: { db: Db };
}

/** Binds a sign-in to the browser that started it: the callback's state must be this cookie's. */
const STATE_COOKIE = 'gantry_oidc_state';
const BASE = '/api/session/oidc';
const CALLBACK = `${BASE}/callback`;

const status = z.object({
  enabled: z.boolean().describe('whether the console offers single sign-on'),
  issuer: z.string().optional().describe('the OpenID Connect provider'),
  loginUrl: z.string().optional().describe('where the sign-in button sends the browser'),
});

/** Lax, not Strict: the browser comes back from the provider's site and must bring it along. */
function stateCookie(req: FastifyRequest, state: string, maxAgeS: number): string {
  return `${STATE_COOKIE}=${state}; Path=${BASE}; HttpOnly; SameSite=Lax; Max-Age=${maxAgeS}${secureFlag(req)}`;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function wantsHtml(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('text/html');
}

/** A refused sign-in: a page for a browser, `{ error, message, details }` for anything else. */
function refuse(
  req: FastifyRequest,
  reply: FastifyReply,
  failure: OidcFailure,
  clear: string[],
): FastifyReply {
  reply.code(failure.status).header('cache-control', 'no-store');
  if (clear.length > 0) reply.header('set-cookie', clear);
  if (!wantsHtml(req))
    return reply.send({
      error: 'SignInFailed',
      message: failure.message,
      details: { reason: failure.reason },
    });
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(failure.title)} · Gantry</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1b1f24}h1{font-size:1.4rem}a{color:#0b57d0}</style>
</head><body><main><h1>${escapeHtml(failure.title)}</h1><p>Single sign-on did not sign you in: ${escapeHtml(failure.message)}</p>
<p><a href="${BASE}/login">Sign in again</a> · <a href="/">Back to the console</a></p></main></body></html>
`;
  return reply.type('text/html; charset=utf-8').send(page);
}

export function oidcRoutes(r: TypedApp, g: OidcRoutesDeps): void {
  const settings = g.config.oidc;
  const client = settings ? new OidcClient(settings) : undefined;
  const pending = new PendingLogins(g.database.db);
  const redirectUri = (req: FastifyRequest) =>
    `${(g.site.url ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '')}${CALLBACK}`;
  const notConfigured = () =>
    new OidcFailure(
      404,
      'Single sign-on is not configured',
      'this server has no OpenID Connect provider (GANTRY_OIDC_ISSUER and GANTRY_OIDC_CLIENT_ID); sign in with a token or a password instead.',
      'not-configured',
    );

  r.get(
    BASE,
    {
      config: { access: 'public' },
      schema: {
        tags: ['session'],
        summary:
          "Whether the console's sign-in page offers single sign-on (OpenID Connect), and where it starts",
        security: [],
        response: { 200: status },
      },
    },
    async () =>
      settings ? { enabled: true, issuer: settings.issuer, loginUrl: `${BASE}/login` } : { enabled: false },
  );

  r.get(
    `${BASE}/login`,
    {
      config: { access: 'public' },
      schema: {
        tags: ['session'],
        summary:
          'Single sign-on: redirects (302) to the OpenID Connect provider with state, nonce and PKCE; 404 when not configured',
        security: [],
      },
    },
    async (req, reply) => {
      if (!client) return refuse(req, reply, notConfigured(), []);
      let begun: Awaited<ReturnType<OidcClient['begin']>>;
      try {
        begun = await client.begin(redirectUri(req));
      } catch (error) {
        if (!(error instanceof OidcFailure)) throw error;
        g.logger.warn({ reason: error.reason, issuer: client.issuer }, `single sign-on: ${error.message}`);
        return refuse(req, reply, error, []);
      }
      await pending.add(begun.pending);
      return reply
        .code(302)
        .header('cache-control', 'no-store')
        .header('set-cookie', stateCookie(req, begun.pending.state, Math.floor(PENDING_TTL_MS / 1000)))
        .header('location', begun.url.href)
        .send();
    },
  );

  r.get(
    CALLBACK,
    {
      config: { access: 'public' },
      schema: {
        tags: ['session'],
        summary:
          "Single sign-on: where the provider sends the browser back. Checks the state, exchanges the code, verifies the ID token, maps the groups claim to roles, sets the console's session cookie and redirects to /",
        security: [],
      },
    },
    async (req, reply) => {
      const clearState = stateCookie(req, '', 0);
      if (!client) return refuse(req, reply, notConfigured(), []);
      const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
      const state = new URLSearchParams(query).get('state') ?? '';
      try {
        // Taken whatever happens next: a state is good for one callback only.
        const login = state ? await pending.take(state) : undefined;
        const browserState = cookieValue(req.headers.cookie, STATE_COOKIE);
        if (!state || browserState !== state)
          throw new OidcFailure(
            400,
            'Sign-in not recognised',
            `the sign-in's state ${state ? 'does not match the one this browser started' : 'is missing'} (it was started in another browser or tab, or this address was opened from a link). Start the sign-in again from the console.`,
            'state',
          );
        if (!login)
          throw new OidcFailure(
            400,
            'Sign-in expired',
            `this sign-in was used already or started more than ${PENDING_TTL_MS / 60_000} minutes ago. Start the sign-in again from the console.`,
            'state',
          );
        const identity = await client.finish(query, login);
        const principal = await principalFor(g.users, identity);
        const { secret, session } = await g.sessions.create(principal);
        const maxAge = Math.floor((Date.parse(session.expiresAt) - Date.now()) / 1000);
        g.logger.info(
          { login: principal.name, issuer: identity.issuer, groups: identity.groups },
          'signed in with single sign-on',
        );
        return reply
          .code(302)
          .header('cache-control', 'no-store')
          .header('set-cookie', [clearState, sessionCookie(req, secret, maxAge)])
          .header('location', '/')
          .send();
      } catch (error) {
        const failure = asFailure(error);
        g.logger.warn(
          { reason: failure.reason, issuer: client.issuer },
          `single sign-on refused: ${failure.message}`,
        );
        return refuse(req, reply, failure, [clearState]);
      }
    },
  );
}

/** The person the provider vouched for, made or refreshed, as a principal that holds at least one role. */
async function principalFor(users: OidcUsers, identity: OidcIdentity): Promise<Principal> {
  const user = await users.upsertExternal(identity);
  const principal = user.disabled ? null : await users.principalOf(user.id);
  if (!principal)
    throw new OidcFailure(
      403,
      'Account disabled',
      `signed in as ${user.login}, but that account is disabled in Gantry; ask an admin to enable it.`,
      'disabled',
    );
  if (principal.bindings.length === 0) {
    const groups = identity.groups.length > 0 ? identity.groups.join(', ') : 'none';
    throw new OidcFailure(
      403,
      'No role in Gantry',
      `signed in as ${user.login}, but none of your groups (${groups}) has a role in Gantry; ask an admin to bind one.`,
      'no-role',
    );
  }
  return principal;
}

/** Errors of Gantry's own services (a bad login name, a lost database) keep their status; nothing is a 500 page. */
function asFailure(error: unknown): OidcFailure {
  if (error instanceof OidcFailure) return error;
  const { status, body } = mapError(error);
  if (error instanceof GantryError && status < 500)
    return new OidcFailure(status === 401 ? 403 : status, 'Sign-in refused', body.message, 'refused');
  throw error;
}
