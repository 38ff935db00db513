import type { FastifyRequest } from 'fastify';

export interface AuditChange {
  before?: unknown;
  after?: unknown;
}

const changes = new WeakMap<FastifyRequest, AuditChange>();

/**
 * Tells the audit log what a route changed: the state before and after (secret-looking fields are
 * masked when stored). Call it in the handler, once the change is made; a route that does not call
 * it is recorded with its request body only.
 *
 * @example
 * const before = await g.forge.get(req.params.app);
 * const after = await g.forge.set(req.params.app, req.body, actorOf(req));
 * auditChange(req, { before, after });
 */
export function auditChange(req: FastifyRequest, change: AuditChange): void {
  changes.set(req, { ...changes.get(req), ...change });
}

/** What the route said it changed, if it said. */
export function auditChangeOf(req: FastifyRequest): AuditChange | undefined {
  return changes.get(req);
}
