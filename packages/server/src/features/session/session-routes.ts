import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { NotAllowed, Unauthenticated } from '../../errors.js';
import type { TypedApp } from '../../http/route-kit.js';
import type { Principal, TokenService } from '../auth/token-service.js';
import { consoleRoles, permissions, permissionsOf } from './permissions.js';
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
  sessions: Pick<SessionService, 'create' | 'find' | 'end'>;
}

const sessionInfo = z.object({
  principal: z.object({ name: z.string(), role: z.string() }),
  permissions: z.array(z.enum(permissions)).describe('what the console may offer this principal'),
  csrfToken: z.string().describe('send it back as X-CSRF-Token on every request that changes something'),
  expiresAt: z.string(),
});

function infoOf(session: ConsoleSession): z.infer<typeof sessionInfo> {
  return {
    principal: { name: session.principal.name, role: session.principal.role },
    permissions: permissionsOf(session.principal.role),
    csrfToken: session.csrf,
    expiresAt: session.expiresAt,
  };
}

function cookie(req: FastifyRequest, value: string, maxAgeS: number): string {
  // Secure only where the browser would send it back: over HTTPS (directly or behind a proxy).
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
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

/** Sign-in for the web console: a token is exchanged once for an HttpOnly session cookie. */
export function sessionRoutes(r: TypedApp, g: SessionRoutesDeps): void {
  r.post(
    '/api/session',
    {
      schema: {
        tags: ['session'],
        summary:
          'Sign in to the console: exchange an API token for an HttpOnly, SameSite=Strict session cookie',
        security: [],
        body: z.object({ token: z.string().min(1).max(500) }).strict(),
        response: { 201: sessionInfo },
      },
    },
    async (req, reply) => {
      assertSameOrigin(req);
      const principal: Principal | null = await g.tokens.verify(req.body.token.trim());
      if (!principal) {
        throw new Unauthenticated(
          'unknown token: this server did not issue it, or it was revoked. Use an admin token (`gantry token create <name>`; the first one is in <data-dir>/cli.json)',
        );
      }
      if (!(consoleRoles as readonly string[]).includes(principal.role)) {
        throw new NotAllowed(
          `a ${principal.role} token cannot sign in to the console (it is for ${principal.role === 'hook' ? 'the post-receive hook' : 'SDKs'}); use an admin or metrics token`,
        );
      }
      const { secret, session } = await g.sessions.create(principal);
      const maxAge = Math.floor((Date.parse(session.expiresAt) - Date.now()) / 1000);
      reply.header('set-cookie', cookie(req, secret, maxAge)).header('cache-control', 'no-store');
      return reply.code(201).send(infoOf(session));
    },
  );

  r.get(
    '/api/session',
    {
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
      schema: {
        tags: ['session'],
        summary: 'Sign out: the session ends on the server and its cookie is cleared',
        security: [],
      },
    },
    async (req, reply: FastifyReply) => {
      const session = await sessionOf(req, g.sessions);
      if (session) await g.sessions.end(session.id);
      reply.header('set-cookie', cookie(req, '', 0));
      return reply.code(204).send();
    },
  );
}
