/**
 * What route files share: the typed Fastify app, the request's principal and who it acts as. A leaf
 * module, so that the HTTP app can import every feature's routes without a circle back to itself.
 */
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { NotAllowed, Unauthenticated } from '../errors.js';
import { allows, type Binding, type Permission, type Scope } from '../features/access/roles.js';
import type { Principal } from '../features/auth/token-service.js';
import type { EventStreams } from './event-stream.js';

/**
 * Who may call a route, declared beside it (`config: { access }`); the HTTP app refuses to start
 * with a route that declares none, and checks it on every request (http/access-hook.ts).
 * - a permission: a person or token whose bindings grant it where the request acts — the app and
 *   environment named by the path (`:app`, `:env`), the query (`?app=`, `?env=`) or the body
 *   (`app`, `env`); routes that act on a record (`/api/deployments/:id`) check again with the
 *   record's app and environment (`authorize` below) once they have read it;
 * - `signed-in`: any person or API token (what it may see is filtered by the route);
 * - `client` / `frontend`: an SDK token of that kind; `hook`: an app's hook token;
 * - `public`: no credentials (the route checks its own, like webhooks' signatures and sign-in).
 */
export type RouteAccess = Permission | 'signed-in' | 'client' | 'frontend' | 'hook' | 'agent' | 'public';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    rawBody?: Buffer;
  }
  interface FastifyContextConfig {
    access?: RouteAccess;
    /** The route acts on a record found by id: it calls `authorize` with the record's app and environment. */
    record?: boolean;
    /** The route acts on the whole server (adds an app): only a binding on every app grants it. */
    everyApp?: boolean;
  }
  interface FastifyInstance {
    /** Every server-sent event stream, with their caps (GANTRY_SSE_*). */
    eventStreams: EventStreams;
  }
}

export type GantryHttp = FastifyInstance;
export type TypedApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** Who the request acts as, for events and records. */
export function actorOf(req: FastifyRequest): string {
  const p = req.principal;
  if (!p) return 'anonymous';
  return p.kind === 'user' ? `user:${p.name}` : `token:${p.name}`;
}

function describeBindings(bindings: readonly Binding[]): string {
  if (bindings.length === 0) return 'no role';
  return bindings
    .map((b) => `${b.role}${b.app === null ? ' on every app' : ` on ${b.app}${b.env ? `/${b.env}` : ''}`}`)
    .join(', ');
}

function where(scope: Scope): string {
  if (scope.app === undefined) return '';
  return ` on ${scope.app}${scope.env ? `/${scope.env}` : ''}`;
}

/** The refusal for a principal without a permission, saying what it has and what to ask for. */
export function refusal(p: Principal, permission: Permission, scope: Scope): NotAllowed {
  return new NotAllowed(
    `${p.kind === 'user' ? 'user' : 'token'} "${p.name}" may not ${permission}${where(scope)}: it has ${describeBindings(p.bindings)}. ` +
      'Ask an admin for a role that grants it (docs/access.md says which roles do)',
    { permission, ...scope },
  );
}

/**
 * For routes that act on a record (`/api/releases/:name/apply`): the route checked that the
 * principal holds the permission somewhere; this checks it where the record lives.
 */
export function authorize(req: FastifyRequest, permission: Permission, scope: Scope): void {
  const p = req.principal;
  if (!p) throw new Unauthenticated('sign in first');
  if (!allows(p.bindings, permission, scope)) throw refusal(p, permission, scope);
}

/** Whether the principal may read an app (lists show only those). */
export function mayRead(req: FastifyRequest, app: string): boolean {
  const p = req.principal;
  return p !== undefined && allows(p.bindings, 'apps:read', { app });
}
