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
import type { Principal } from '../features/auth/token-service.js';
import type { EventStreams } from './event-stream.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    rawBody?: Buffer;
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
  return req.principal ? `token:${req.principal.name}` : 'anonymous';
}
