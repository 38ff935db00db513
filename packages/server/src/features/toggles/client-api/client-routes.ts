import type { TypedApp } from '../../../http/route-kit.js';
import type { ClientApi } from './client-api.js';
import { prefixedView } from './client-features-cache.js';
import { clientOf, formFor, matchesEtag } from './client-principal.js';
import { metricsBody, queueMetrics, queueRegistration, registerBody, tooMany } from './sdk-reports.js';

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface ClientRoutesDeps {
  /** Whole, for the report queues (sdk-reports.ts). */
  clientApi: ClientApi;
}

/** The Unleash client API that server-side SDKs poll, register with and report metrics to. */
export function clientRoutes(r: TypedApp, g: ClientRoutesDeps): void {
  const api = g.clientApi;

  r.get(
    '/api/client/features',
    {
      config: { access: 'client' },
      schema: {
        tags: ['client'],
        summary: "Toggles of the token's app and environment, in Unleash's format",
      },
    },
    async (req, reply) => {
      const client = clientOf(req);
      const { appId, env } = client;
      const form = formFor(req.headers['unleash-client-spec']);
      const entry = api.features.fresh(appId, env, form) ?? (await api.features.get(appId, env, form));
      const prefix = (req.query as { namePrefix?: unknown }).namePrefix;
      const view = typeof prefix === 'string' && prefix !== '' ? prefixedView(entry, prefix) : entry;
      reply.header('etag', view.etag);
      api.fetches.record(req, client, entry.revision, view.etag, 'features');
      if (matchesEtag(req.headers['if-none-match'], view.etag)) return reply.code(304).send();
      return reply.type('application/json; charset=utf-8').send(view.body);
    },
  );

  r.post(
    '/api/client/register',
    {
      config: { access: 'client' },
      bodyLimit: 1024 * 1024,
      schema: { tags: ['client'], summary: 'An SDK instance starts', body: registerBody },
    },
    async (req, reply) => {
      const { tokenId, tokenName, appId, env } = clientOf(req);
      if (!api.limiter.take(tokenId)) throw tooMany();
      queueRegistration(api, { appId, env, tokenId, tokenName }, req.body, {
        instanceId: String(req.headers['unleash-instanceid'] ?? 'unknown'),
        sdkVersion: req.headers['unleash-sdk'] as string | undefined,
      });
      return reply.code(202).send();
    },
  );

  r.post(
    '/api/client/metrics',
    {
      config: { access: 'client' },
      bodyLimit: 4 * 1024 * 1024,
      schema: { tags: ['client'], summary: 'Evaluation counts from an SDK (queued)', body: metricsBody },
    },
    async (req, reply) => {
      const { tokenId, appId, env } = clientOf(req);
      if (!api.limiter.take(tokenId)) throw tooMany();
      const instanceId = req.body.instanceId ?? (req.headers['unleash-instanceid'] as string | undefined);
      queueMetrics(api, { appId, env }, req.body, instanceId);
      return reply.code(202).send();
    },
  );
}
