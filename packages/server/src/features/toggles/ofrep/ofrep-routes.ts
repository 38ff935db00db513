import { createHash } from 'node:crypto';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GantryError } from '../../../errors.js';
import { errorHandler } from '../../../http/error-mapper.js';
import type { TypedApp } from '../../../http/route-kit.js';
import type { ClientApi } from '../client-api/client-api.js';
import { clientOf, matchesEtag } from '../client-api/client-principal.js';
import { OfrepFlagsCache } from './ofrep-cache.js';
import { isContextError, toToggleContext } from './ofrep-context.js';
import { isFailure, type OfrepResult } from './ofrep-types.js';

const BODY_LIMIT = 1024 * 1024;

const keyOf = (req: FastifyRequest) => (req.params as { key?: string }).key ?? '';

function isBodyParseError(err: FastifyError): boolean {
  return (
    !(err instanceof GantryError) &&
    err.statusCode === 400 &&
    (err.code === undefined || err.code.startsWith('FST_ERR_CTP'))
  );
}

/** Malformed JSON answers in OFREP's error shape; everything else (401, 403, …) as anywhere else. */
function ofrepErrors(withKey: boolean) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply): void => {
    if (!isBodyParseError(err)) {
      errorHandler(err, req, reply);
      return;
    }
    const body = { errorCode: 'PARSE_ERROR', errorDetails: 'the request body is not valid JSON' };
    void reply.code(400).send(withKey ? { key: keyOf(req), ...body } : body);
  };
}

function statusOf(r: OfrepResult): number {
  if (!isFailure(r)) return 200;
  return r.errorCode === 'FLAG_NOT_FOUND' ? 404 : r.errorCode === 'GENERAL' ? 500 : 400;
}

/** Bulk answers depend on the revision and on the context, so the ETag covers both. */
function bulkEtag(env: string, revision: number, raw: Buffer | undefined): string {
  const hash = createHash('sha1')
    .update(raw ?? '')
    .digest('base64url')
    .slice(0, 16);
  return `"${env}:${revision}:${hash}"`;
}

/** OpenFeature Remote Evaluation Protocol, evaluated here with the token's app and environment. */
/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface OfrepRoutesDeps {
  clientApi: Pick<ClientApi, 'features'>;
}

export function ofrepRoutes(r: TypedApp, g: OfrepRoutesDeps): void {
  const cache = new OfrepFlagsCache(g.clientApi.features);

  r.post(
    '/ofrep/v1/evaluate/flags/:key',
    {
      config: { access: 'client' },
      bodyLimit: BODY_LIMIT,
      errorHandler: ofrepErrors(true),
      schema: { tags: ['ofrep'], summary: 'Evaluate one toggle for a context (OFREP)' },
    },
    async (req, reply) => {
      const { appId, env } = clientOf(req);
      const key = keyOf(req);
      const context = toToggleContext(req.body === undefined ? {} : req.body, env);
      if (isContextError(context)) return reply.code(400).send({ key, ...context });
      const flags = cache.fresh(appId, env) ?? (await cache.get(appId, env));
      const result = flags.evaluate(key, context);
      return reply.code(statusOf(result)).send(result);
    },
  );

  r.post(
    '/ofrep/v1/evaluate/flags',
    {
      config: { access: 'client' },
      bodyLimit: BODY_LIMIT,
      errorHandler: ofrepErrors(false),
      schema: { tags: ['ofrep'], summary: "Evaluate all toggles of the token's environment (OFREP bulk)" },
    },
    async (req, reply) => {
      const { appId, env } = clientOf(req);
      const context = toToggleContext(req.body === undefined ? {} : req.body, env);
      if (isContextError(context)) return reply.code(400).send(context);
      const flags = cache.fresh(appId, env) ?? (await cache.get(appId, env));
      const etag = bulkEtag(env, flags.revision, req.rawBody);
      reply.header('etag', etag);
      if (matchesEtag(req.headers['if-none-match'], etag)) return reply.code(304).send();
      const results: OfrepResult[] = [];
      for (const key of flags.keys()) results.push(flags.evaluate(key, context));
      return reply.send({ flags: results, metadata: { environment: env, revision: flags.revision } });
    },
  );
}
