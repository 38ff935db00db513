import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { NotAllowed, NotFound } from '../../../errors.js';
import type { TypedApp } from '../../../http/route-kit.js';
import type { ClientApi } from '../client-api/client-api.js';
import { matchesEtag } from '../client-api/client-principal.js';
import {
  metricsBody,
  queueMetrics,
  queueRegistration,
  registerBody,
  tooMany,
} from '../client-api/sdk-reports.js';
import { frontendContext } from './frontend-context.js';
import { type FrontendToggle, FrontendTogglesCache } from './frontend-toggles.js';

/** The app and environment the request's frontend token is fixed to (the auth hook checked the role). */
function frontendOf(req: FastifyRequest): { tokenId: string; tokenName: string; appId: string; env: string } {
  const p = req.principal;
  if (p?.role !== 'frontend' || !p.tokenId || !p.appId || !p.env) {
    throw new NotAllowed('this endpoint needs a frontend token (`gantry tokens create --kind frontend`)');
  }
  return { tokenId: p.tokenId, tokenName: p.name, appId: p.appId, env: p.env };
}

/** The body's hash: the answer depends on the revision, the context and, for random stickiness, chance. */
function etagOf(body: string): string {
  return `"${createHash('sha1').update(body).digest('base64url').slice(0, 27)}"`;
}

const summary = (s: string) => ({ tags: ['frontend'], summary: s });

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface FrontendRoutesDeps {
  /** Whole, for the report queues (sdk-reports.ts). */
  clientApi: ClientApi;
}

/**
 * Unleash's Frontend API for browser and mobile SDKs (`unleash-proxy-client` and its wrappers):
 * toggles evaluated here for the context the SDK sends, only the enabled ones, with their variants.
 */
export function frontendRoutes(r: TypedApp, g: FrontendRoutesDeps): void {
  const cache = new FrontendTogglesCache(g.clientApi.features);
  const api = g.clientApi;

  async function answer(req: FastifyRequest, source: unknown): Promise<{ body: string; etag: string }> {
    const { appId, env } = frontendOf(req);
    const toggles = await cache.get(appId, env);
    const body = JSON.stringify({ toggles: toggles.all(frontendContext(source, env, req.ip)) });
    return { body, etag: etagOf(body) };
  }

  for (const method of ['get', 'post'] as const) {
    r[method](
      '/api/frontend',
      {
        config: { access: 'frontend' },
        bodyLimit: 1024 * 1024,
        schema: summary(
          method === 'get'
            ? 'Enabled toggles for the context in the query string (Unleash Frontend API)'
            : 'Enabled toggles for the context in the body, `{ context }` (Unleash Frontend API)',
        ),
      },
      async (req, reply) => {
        const { body, etag } = await answer(req, method === 'get' ? req.query : req.body);
        reply.header('etag', etag).header('cache-control', 'no-cache');
        if (matchesEtag(req.headers['if-none-match'], etag)) return reply.code(304).send();
        return reply.type('application/json; charset=utf-8').send(body);
      },
    );
  }

  r.get(
    '/api/frontend/features/:name',
    {
      config: { access: 'frontend' },
      schema: {
        ...summary('One toggle when it is enabled for the context'),
        params: z.object({ name: z.string() }),
      },
    },
    async (req): Promise<FrontendToggle> => {
      const { appId, env } = frontendOf(req);
      const toggles = await cache.get(appId, env);
      const toggle = toggles.evaluate(req.params.name, frontendContext(req.query, env, req.ip));
      if (!toggle)
        throw new NotFound(`no toggle ${JSON.stringify(req.params.name)} is enabled for this context`);
      return toggle;
    },
  );

  r.post(
    '/api/frontend/client/metrics',
    {
      config: { access: 'frontend' },
      bodyLimit: 4 * 1024 * 1024,
      schema: { ...summary('Evaluation counts from a frontend SDK'), body: metricsBody },
    },
    async (req, reply) => {
      const { tokenId, appId, env } = frontendOf(req);
      if (!api.limiter.take(tokenId)) throw tooMany();
      queueMetrics(api, { appId, env }, req.body, req.body.instanceId);
      return reply.code(202).send();
    },
  );

  r.post(
    '/api/frontend/client/register',
    {
      config: { access: 'frontend' },
      bodyLimit: 1024 * 1024,
      schema: { ...summary('A frontend SDK starts'), body: registerBody },
    },
    async (req, reply) => {
      const { tokenId, tokenName, appId, env } = frontendOf(req);
      if (!api.limiter.take(tokenId)) throw tooMany();
      queueRegistration(api, { appId, env, tokenId, tokenName }, req.body, {
        instanceId: 'browser',
        sdkVersion: req.headers['unleash-sdk'] as string | undefined,
      });
      return reply.code(202).send();
    },
  );
}
