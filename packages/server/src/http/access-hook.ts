/**
 * Who may call what. Every route declares its access beside it (`config: { access }`); this file
 * makes the HTTP app refuse to start with a route that declares none, finds the principal of each
 * request (onRequest: a token, or the console's session cookie) and checks the route's permission
 * against the principal's bindings where the request acts (preValidation, once the body is parsed:
 * the app and environment named by the path, the query or the body).
 *
 * The principal is set before any refusal, so the audit log records who was refused.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { NotAllowed, Unauthenticated } from '../errors.js';
import {
  allows,
  type Binding,
  type Permission,
  permissions,
  readableApps,
  type Scope,
} from '../features/access/roles.js';
import type { TokenService } from '../features/auth/token-service.js';
import { sessionOf } from '../features/session/session-routes.js';
import type { SessionService } from '../features/session/session-service.js';
import { FRONTEND_ROUTES, frontendCors } from '../features/toggles/frontend-api/frontend-cors.js';
import { type RouteAccess, refusal } from './route-kit.js';
import { isConsolePage, isConsoleRequest } from './web-console.js';

export interface AccessDeps {
  tokens: Pick<TokenService, 'verify'>;
  sessions: Pick<SessionService, 'find'>;
  frontendCorsOrigins: readonly string[];
}

const routeAccesses: readonly string[] = [
  ...permissions,
  'signed-in',
  'client',
  'frontend',
  'hook',
  'agent',
  'public',
];
/** Token kinds that are for machines on their own routes, never for the API people use. */
const MACHINE_ROLES = new Set(['client', 'frontend', 'hook', 'agent']);

/** Unleash SDKs send the token raw in `Authorization`; everything else sends `Bearer <token>`. */
function tokenOf(header: string | undefined): string | undefined {
  const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : header?.trim();
  return token || undefined;
}

const article = (word: string) => (/^[aeiou]/.test(word) ? 'an' : 'a');

function accessOf(req: FastifyRequest): RouteAccess | undefined {
  return (req.routeOptions.config as { access?: RouteAccess } | undefined)?.access;
}

function stringField(source: unknown, field: string): string | undefined {
  if (source === null || typeof source !== 'object' || Array.isArray(source)) return undefined;
  const v = (source as Record<string, unknown>)[field];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The app and environment a request acts on, as its path, query or body names them. */
export function scopeOf(req: Pick<FastifyRequest, 'params' | 'query' | 'body'>): Scope {
  const scope: Scope = {};
  const app = stringField(req.params, 'app') ?? stringField(req.query, 'app') ?? stringField(req.body, 'app');
  const env = stringField(req.params, 'env') ?? stringField(req.query, 'env') ?? stringField(req.body, 'env');
  if (app !== undefined) scope.app = app;
  if (env !== undefined) scope.env = env;
  return scope;
}

/** A route and who may call it, as declared (the route × role test and docs/access.md walk these). */
export interface DeclaredRoute {
  method: string;
  url: string;
  access: RouteAccess;
  record: boolean;
  everyApp: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route with its declared access, in registration order. */
    declaredRoutes: DeclaredRoute[];
  }
}

export function registerAccess(app: FastifyInstance, deps: AccessDeps): void {
  const declared: DeclaredRoute[] = [];
  app.decorate('declaredRoutes', declared);
  app.addHook('onRoute', (route: RouteOptions) => {
    const config = (route.config ?? {}) as { access?: string; record?: boolean; everyApp?: boolean };
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    // @fastify/static's wildcard (the console's hashed assets) takes no route config.
    if (config.access === undefined && route.url === '/*' && route.schema?.hide === true) {
      route.config = { ...config, access: 'public' } as RouteOptions['config'];
      return;
    }
    if (config.access === undefined || !routeAccesses.includes(config.access)) {
      throw new Error(
        `route ${methods.join(',')} ${route.url} declares ${config.access === undefined ? 'no access' : `an unknown access "${config.access}"`}: ` +
          `add config: { access: '<permission>' | 'signed-in' | 'client' | 'frontend' | 'hook' | 'agent' | 'public' } (features/access/roles.ts)`,
      );
    }
    for (const method of methods)
      declared.push({
        method: String(method),
        url: route.url,
        access: config.access as RouteAccess,
        record: config.record === true,
        everyApp: config.everyApp === true,
      });
  });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const access = accessOf(req);
    // A browser navigating to /metrics gets the console's page (web-console.ts), which holds no secret.
    if (access === 'public' || isConsolePage(req)) return;
    const path = req.url.split('?')[0] ?? '';
    // No route: the console's pages (its router) and 404s; an unknown API path still needs a principal.
    if (access === undefined && (isConsoleRequest(req.method, path) || isConsolePage(req))) return;
    const clientRoute = access === 'client';
    // A CORS preflight matches no route (there are no OPTIONS routes): known by its path.
    const frontendRoute =
      access === 'frontend' || (access === undefined && FRONTEND_ROUTES.some((r) => r.test(path)));
    // Browsers call the Frontend API from other origins; a preflight carries no token.
    if (frontendRoute && frontendCors(req, reply, deps.frontendCorsOrigins)) return reply;
    // OFREP lets providers send the key as `X-API-Key` instead of `Authorization`.
    const apiKey = clientRoute ? req.headers['x-api-key'] : undefined;
    const token =
      tokenOf(req.headers.authorization) ?? tokenOf(typeof apiKey === 'string' ? apiKey : undefined);
    // The console's session cookie stands in for a token on the API's own routes, never on SDK ones.
    if (!token && !clientRoute && !frontendRoute) {
      const session = await sessionOf(req, deps.sessions);
      if (session) {
        req.principal = session.principal;
        return checkKind(req, access, path);
      }
    }
    if (!token) {
      if (frontendRoute) {
        throw new Unauthenticated(
          'missing frontend token: send `Authorization: <app>:<env>.<secret>` (create one with `gantry tokens create --kind frontend --app <app> --env <env>`)',
        );
      }
      throw new Unauthenticated(
        clientRoute
          ? 'missing client token: send `Authorization: <app>:<env>.<secret>` (create one with `gantry tokens create --app <app> --env <env>`)'
          : 'missing API token: send `Authorization: Bearer <token>` (the CLI reads GANTRY_TOKEN or `gantry login`)',
      );
    }
    const principal = await deps.tokens.verify(token);
    if (!principal) {
      throw new Unauthenticated(
        clientRoute
          ? 'unknown client token; create one with `gantry tokens create --app <app> --env <env>`'
          : 'unknown API token: this server did not issue it, or it was revoked or expired (a server started with another data dir or database knows other tokens). ' +
              'Ask an admin for a new one (`gantry token create <name>` with their token); on the server host, `<data-dir>/cli.json` holds the admin token of its first start',
      );
    }
    req.principal = principal;
    checkKind(req, access, path);
  });

  // Lists across apps show a person or token bound to some apps only those apps' items.
  app.addHook('preSerialization', async (req: FastifyRequest, _reply, payload: unknown) => {
    if (req.method !== 'GET' || accessOf(req) !== 'apps:read' || !req.principal) return payload;
    const readable = readableApps(req.principal.bindings);
    if (readable === 'all' || scopeOf(req).app !== undefined) return payload;
    // The apps list names each app by `name`; everything else by `app`.
    return filterReadable(payload, readable, req.routeOptions.url === '/api/apps' ? 'name' : 'app');
  });

  app.addHook('preValidation', async (req: FastifyRequest) => {
    const access = accessOf(req);
    if (access === undefined || !(permissions as readonly string[]).includes(access)) return;
    const p = req.principal;
    if (!p) throw new Unauthenticated('sign in first');
    const permission = access as Permission;
    const config = req.routeOptions.config as { record?: boolean; everyApp?: boolean } | undefined;
    const record = config?.record === true;
    // A route on a record checks where the record lives once it has read it (`authorize`); a
    // route that acts on the whole server (adding an app) needs a binding on every app.
    const scope: Scope = config?.everyApp ? { app: '*' } : record ? {} : scopeOf(req);
    if (record ? !holdsAnywhere(p.bindings, permission) : !allows(p.bindings, permission, scope))
      throw refusal(p, permission, scope);
  });
}

/**
 * A list read by someone bound to some apps only: items of other apps (objects with an `app` name)
 * are left out, at the top level or one level down (`{ builds: […] }`). Items without an app stay.
 */
export function filterReadable(payload: unknown, readable: Set<string>, field = 'app'): unknown {
  const keep = (item: unknown) => {
    const app =
      item !== null && typeof item === 'object' ? (item as Record<string, unknown>)[field] : undefined;
    return typeof app !== 'string' || readable.has(app);
  };
  if (Array.isArray(payload)) return payload.filter(keep);
  if (payload === null || typeof payload !== 'object') return payload;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(payload)) out[k] = Array.isArray(v) ? v.filter(keep) : v;
  return out;
}

function holdsAnywhere(bindings: readonly Binding[], permission: Permission): boolean {
  return bindings.some((b) => allows([b], permission, { app: b.app ?? undefined, env: b.env ?? undefined }));
}

/** Machine tokens call only their own routes; people and service tokens never call those. */
function checkKind(req: FastifyRequest, access: RouteAccess | undefined, path: string): void {
  const p = req.principal!;
  if (access === 'frontend') {
    if (p.role !== 'frontend')
      throw new NotAllowed(
        `invalid token: ${path} needs a frontend token (\`gantry tokens create --kind frontend\`), not ${article(p.role)} ${p.role} token`,
      );
    return;
  }
  if (access === 'client') {
    if (p.role !== 'client')
      throw new NotAllowed(
        `invalid token: ${path} needs a client token (\`<app>:<env>.<secret>\` from \`gantry tokens create\`), not ${article(p.role)} ${p.role} token`,
      );
    return;
  }
  if (p.role === 'frontend')
    throw new NotAllowed(
      'invalid token: a frontend token may only call the Frontend API (/api/frontend*); server-side SDKs and OFREP take a client token',
    );
  if (p.role === 'client')
    throw new NotAllowed(
      'invalid token: a client token may only call the SDK endpoints (/api/client/*, /ofrep/*); use an API token',
    );
  // Build agents (features/agents) call only the agent API, and only they call it.
  if (access === 'agent' || p.role === 'agent') {
    if (access === 'agent' && p.role === 'agent') return;
    throw new NotAllowed(
      access === 'agent'
        ? `invalid token: ${path} is for build agents and needs an agent token (\`gantry agents token create\`), not ${article(p.role)} ${p.role} token`
        : 'an agent token may only call the agent API (/api/agent/*); use an API token for anything else',
    );
  }
  if (access === 'hook') {
    // The push notification: an app's hook token, or anyone who may start builds (the route checks the app).
    if (p.role === 'hook' || holdsAnywhere(p.bindings, 'builds:write')) return;
    throw new NotAllowed(
      `${p.kind === 'user' ? 'user' : 'token'} "${p.name}" may not notify pushes: it needs the app's hook token or a role that starts builds`,
    );
  }
  if (MACHINE_ROLES.has(p.role))
    throw new NotAllowed(
      'a hook token may only notify pushes (POST /api/hooks/git); use an API token for anything else',
    );
}
