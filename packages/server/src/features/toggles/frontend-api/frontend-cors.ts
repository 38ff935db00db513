import type { FastifyReply, FastifyRequest } from 'fastify';

/** Paths of the Frontend API that browser and mobile SDKs call with a `frontend` token. */
export const FRONTEND_ROUTES = [/^\/api\/frontend(\/|$)/];

/**
 * CORS for the Frontend API, which browsers call from other origins: `*` by default, as Unleash
 * does, or the request's origin when it is one of `origins`. Answers a preflight (`OPTIONS`) at
 * once, without a token, and returns true when it did.
 */
export function frontendCors(req: FastifyRequest, reply: FastifyReply, origins: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origins.includes('*')) reply.header('access-control-allow-origin', '*');
  else {
    reply.header('vary', 'Origin');
    if (origin && origins.includes(origin)) reply.header('access-control-allow-origin', origin);
  }
  reply.header('access-control-expose-headers', 'ETag');
  if (req.method !== 'OPTIONS') return false;
  const asked = req.headers['access-control-request-headers'];
  void reply
    .code(204)
    .header('access-control-allow-methods', 'GET, POST, OPTIONS')
    .header(
      'access-control-allow-headers',
      typeof asked === 'string' && asked !== '' ? asked : 'Authorization, Content-Type, If-None-Match',
    )
    .header('access-control-max-age', '86400')
    .send();
  return true;
}
