import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { NotAllowed, TooManyAttempts, Unauthenticated } from '../../errors.js';
import type { TypedApp } from '../../http/route-kit.js';
import { permissions, permissionsOf } from '../access/roles.js';
import type { Principal, TokenService } from '../auth/token-service.js';
import type { SignInLimiter } from '../users/sign-in-limiter.js';
import type { UserService } from '../users/user-service.js';
import {
  type ConsoleSession,
  CSRF_HEADER,
  csrfMatches,
  SESSION_COOKIE,
  type SessionService,
  sessionSecretOf,
} from './session-service.js';

export interface SessionRoutesDeps {
  tokens: Pick<TokenService, 'verify'>;
  sessions: Pick<SessionService, 'create' | 'find' | 'end' | 'endForUser'>;
  users: Pick<UserService, 'checkPassword' | 'principalOf'>;
  signIns: SignInLimiter;
  /** Told when a person signs out everywhere (their event streams close). */
  signedOutEverywhere(userId: string): void;
}

/** Tokens made for machines (SDKs, the post-receive hook) never sign in to the console. */
const MACHINE_ROLES = new Set(['client', 'frontend', 'hook']);

const sessionInfo = z.object({
  principal: z.object({
    kind: z.enum(['user', 'token']),
    name: z.string(),
    role: z.string().describe("a token's role, or `user` for a person (their roles are in `bindings`)"),
    groups: z.array(z.string()),
    bindings: z.array(z.object({ role: z.string(), app: z.string().nullable(), env: z.string().nullable() })),
  }),
  permissions: z.array(z.enum(permissions)).describe('what the console may offer this principal'),
  csrfToken: z.string().describe('send it back as X-CSRF-Token on every request that changes something'),
  expiresAt: z.string(),
});

function infoOf(session: ConsoleSession): z.infer<typeof sessionInfo> {
  return {
    principal: {
      kind: session.principal.kind,
      name: session.principal.name,
      role: session.principal.role,
      groups: session.principal.groups,
      bindings: session.principal.bindings,
    },
    permissions: permissionsOf(session.principal.bindings),
    csrfToken: session.csrf,
    expiresAt: session.expiresAt,
  };
}

/** `; Secure` where the browser would send the cookie back only over HTTPS (directly or behind a trusted proxy). */
export function secureFlag(req: FastifyRequest): string {
  return req.protocol === 'https' ? '; Secure' : '';
}

/** The console's session cookie (every sign-in sets this one: token, password, single sign-on). */
export function sessionCookie(req: FastifyRequest, value: string, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secureFlag(req)}`;
}

/**
 * A request from a browser page of another site must not act through the console's session: its
 * Origin, when the browser sends one, must be this server's. SameSite=Strict already keeps the
 * cookie off cross-site requests; this holds for sign-in too, which has no cookie yet.
 */
export function assertSameOrigin(req: FastifyRequest): void {
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') {
    if (origin === 'null')
      throw new NotAllowed('a request from an opaque origin may not use the console session');
    return;
  }
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new NotAllowed(`Origin ${origin} is not a URL`);
  }
  if (host !== req.headers.host) {
    throw new NotAllowed(
      `a page on ${origin} may not use this server's console session; open the console on this server`,
    );
  }
}

/** The session a request's cookie names, checked for CSRF when the request changes something. */
export async function sessionOf(
  req: FastifyRequest,
  sessions: Pick<SessionService, 'find'>,
): Promise<ConsoleSession | null> {
  const secret = sessionSecretOf(req.headers.cookie);
  if (!secret) return null;
  const session = await sessions.find(secret);
  if (!session) return null;
  if (!['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
    assertSameOrigin(req);
    if (!csrfMatches(session, req.headers[CSRF_HEADER])) {
      throw new NotAllowed(
        `missing or wrong ${CSRF_HEADER} header: a console request that changes something sends the session's CSRF token (GET /api/session)`,
      );
    }
  }
  return session;
}

/** Starts a console session for a principal: the HttpOnly cookie and what the console needs. */
export async function startSession(
  req: FastifyRequest,
  reply: FastifyReply,
  sessions: Pick<SessionService, 'create'>,
  principal: Principal,
): Promise<z.infer<typeof sessionInfo>> {
  const { secret, session } = await sessions.create(principal);
  const maxAge = Math.floor((Date.parse(session.expiresAt) - Date.now()) / 1000);
  reply.header('set-cookie', sessionCookie(req, secret, maxAge)).header('cache-control', 'no-store');
  return infoOf(session);
}

/** Sign-in for the web console: a login and password, or a token, exchanged once for an HttpOnly session cookie. */
export function sessionRoutes(r: TypedApp, g: SessionRoutesDeps): void {
  r.post(
    '/api/session',
    {
      config: { access: 'public' },
      schema: {
        tags: ['session'],
        summary:
          'Sign in to the console with a login and password, or an API token, for an HttpOnly, SameSite=Strict session cookie; failed passwords are rate-limited per account and per address (429 with Retry-After)',
        security: [],
        body: z.union([
          z.object({ token: z.string().min(1).max(500) }).strict(),
          z.object({ login: z.string().min(1).max(200), password: z.string().min(1).max(1000) }).strict(),
        ]),
        response: { 201: sessionInfo },
      },
    },
    async (req, reply) => {
      assertSameOrigin(req);
      let principal: Principal | null;
      if ('login' in req.body) {
        const login = req.body.login.trim().toLowerCase();
        const wait = await g.signIns.retryAfterMs(login, req.ip);
        if (wait > 0) {
          const seconds = Math.ceil(wait / 1000);
          throw new TooManyAttempts(
            `too many failed sign-ins for this account or from this address; try again in ${seconds} s`,
            seconds,
          );
        }
        const user = await g.users.checkPassword(login, req.body.password);
        principal = user ? await g.users.principalOf(user.id) : null;
        if (!principal) {
          await g.signIns.failed(login, req.ip);
          // One answer for an unknown login, a wrong password and a disabled account.
          throw new Unauthenticated('wrong login or password');
        }
        await g.signIns.succeeded(login);
      } else {
        principal = await g.tokens.verify(req.body.token.trim());
        if (!principal) {
          throw new Unauthenticated(
            'unknown token: this server did not issue it, or it was revoked or expired. Use an admin token (`gantry token create <name>`; the first one is in <data-dir>/cli.json)',
          );
        }
        if (MACHINE_ROLES.has(principal.role)) {
          throw new NotAllowed(
            `a ${principal.role} token cannot sign in to the console (it is for ${principal.role === 'hook' ? 'the post-receive hook' : 'SDKs'}); use an API token or sign in as a person`,
          );
        }
      }
      if (principal.bindings.length === 0)
        throw new NotAllowed(
          `${principal.name} has no role in Gantry yet; ask an admin to bind one (docs/access.md)`,
        );
      return reply.code(201).send(await startSession(req, reply, g.sessions, principal));
    },
  );

  r.get(
    '/api/session',
    {
      config: { access: 'public' },
      schema: {
        tags: ['session'],
        summary: 'The signed-in principal, what it may do, and the CSRF token (401 when not signed in)',
        security: [],
        response: { 200: sessionInfo },
      },
    },
    async (req, reply) => {
      const session = await sessionOf(req, g.sessions);
      if (!session) throw new Unauthenticated('not signed in: POST /api/session with a token');
      reply.header('cache-control', 'no-store');
      return infoOf(session);
    },
  );

  r.delete(
    '/api/session',
    {
      config: { access: 'public' },
      schema: {
        tags: ['session'],
        summary:
          'Sign out: the session ends on the server and its cookie is cleared; ?everywhere=true ends every session of the person',
        security: [],
        querystring: z.object({ everywhere: z.stringbool().optional() }),
      },
    },
    async (req, reply: FastifyReply) => {
      const session = await sessionOf(req, g.sessions);
      if (session) await g.sessions.end(session.id);
      // Sign out everywhere: every session of the person ends, and their event streams close.
      if (
        session &&
        (req.query as { everywhere?: boolean }).everywhere === true &&
        session.principal.userId
      ) {
        await g.sessions.endForUser(session.principal.userId);
        g.signedOutEverywhere(session.principal.userId);
      }
      reply.header('set-cookie', sessionCookie(req, '', 0));
      return reply.code(204).send();
    },
  );
}
