import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { connectionErrorReason, isConnectionError } from '../db/db-errors.js';
import {
  Conflict,
  GantryError,
  InvalidInput,
  NotAllowed,
  NotFound,
  TooManyAttempts,
  Unauthenticated,
} from '../errors.js';

export interface ErrorBody {
  error: string;
  message: string;
  details?: unknown;
}

/** The one place where domain errors become HTTP status codes and `{ error, message, details }`. */
export function mapError(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof GantryError) {
    const status =
      err instanceof NotFound
        ? 404
        : err instanceof Conflict
          ? 409
          : err instanceof InvalidInput
            ? 400
            : err instanceof NotAllowed
              ? 403
              : err instanceof Unauthenticated
                ? 401
                : err instanceof TooManyAttempts
                  ? 429
                  : 500;
    return { status, body: { error: err.name, message: err.message, details: err.details } };
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const issues = err.validation.map((v) => ({
      path: v.instancePath || v.params.issue.path.join('.'),
      message: v.message,
    }));
    return {
      status: 400,
      body: {
        error: 'InvalidInput',
        message: `invalid request ${err.validationContext ?? ''}: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
        details: issues,
      },
    };
  }
  if (isConnectionError(err)) {
    return {
      status: 503,
      body: {
        error: 'Unavailable',
        message: `database unavailable: ${connectionErrorReason(err)}; try again`,
      },
    };
  }
  const fe = err as FastifyError;
  if (typeof fe.statusCode === 'number' && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { error: fe.code ?? 'BadRequest', message: fe.message } };
  }
  return { status: 500, body: { error: 'Internal', message: 'internal error; see the server log' } };
}

export function errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = mapError(err);
  if (status === 503) {
    req.log.warn({ err }, 'request failed: the database connection was lost');
    void reply.header('retry-after', '1');
  } else if (err instanceof TooManyAttempts) {
    void reply.header('retry-after', String(err.retryAfterS));
  } else if (status >= 500) req.log.error({ err }, 'request failed');
  void reply.status(status).send(body);
}
