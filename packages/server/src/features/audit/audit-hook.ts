import type { FastifyRequest } from 'fastify';
import { actorOf } from '../../http/route-kit.js';
import { auditChangeOf } from './audit-change.js';
import { type AuditRecord, auditPrincipal, maskSecrets, named, type PrincipalLike } from './audit-record.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * `false`: the route's calls are not in the audit log (a POST that changes nothing). Mutations
     * are recorded otherwise, and SDK routes (`access: 'client' | 'frontend'`) never are.
     */
    audit?: boolean;
  }
}

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** SDKs' calls (evaluations, metrics, registrations) are traffic, not changes people make. */
const SDK_ACCESS = new Set(['client', 'frontend']);

function plainObject(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** What to record of an answered request, or null when it is not a change made through the API. */
export function auditRecordOf(req: FastifyRequest, status: number, at: string): AuditRecord | null {
  if (!MUTATIONS.has(req.method)) return null;
  // An unknown path matched no route: there is nothing it could have changed.
  const route = req.routeOptions.url;
  if (!route) return null;
  const config: { access?: unknown; audit?: boolean } = req.routeOptions.config ?? {};
  if (config.audit === false || SDK_ACCESS.has(String(config.access))) return null;
  const params = plainObject(req.params) ?? {};
  const query = plainObject(req.query);
  const body = req.body;
  const userAgent = req.headers['user-agent'];
  const principal: PrincipalLike | undefined = req.principal;
  const change = auditChangeOf(req);
  return {
    at,
    actor: actorOf(req),
    principal: auditPrincipal(principal),
    method: req.method,
    route,
    // Masked now, so that a record that cannot be written shows no secret in the server log either.
    params: maskSecrets(params) as Record<string, unknown>,
    query: query && Object.keys(query).length > 0 ? (maskSecrets(query) as Record<string, unknown>) : null,
    app: named('app', params, query, body),
    env: named('env', params, query, body),
    ip: req.ip ?? null,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 500) : null,
    requestId: String(req.id),
    status,
    body: maskSecrets(typeof body === 'string' ? body.slice(0, 2000) : body),
    before: maskSecrets(change?.before),
    after: maskSecrets(change?.after),
  };
}
