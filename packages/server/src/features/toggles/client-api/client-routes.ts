import { z } from 'zod';
import type { Gantry } from '../../../gantry.js';
import type { TypedApp } from '../../../http/route-kit.js';
import { prefixedView } from './client-features-cache.js';
import { clientOf, formFor, matchesEtag } from './client-principal.js';

const date = z.union([z.string(), z.number()]).refine((v) => !Number.isNaN(new Date(v).getTime()), {
  error: 'expected a date-time',
});
const count = z.number().int().min(0);

export const registerBody = z.object({
  appName: z.string().min(1).max(255),
  instanceId: z.string().max(255).optional(),
  sdkVersion: z.string().max(255).optional(),
  strategies: z.array(z.string().max(255)).max(200).optional(),
  interval: z.number().min(0).optional(),
  started: date.optional(),
});

export const metricsBody = z.object({
  appName: z.string().min(1).max(255),
  instanceId: z.string().max(255).optional(),
  bucket: z.object({
    start: date,
    stop: date,
    toggles: z.record(
      z.string().min(1).max(255),
      z.object({ yes: count, no: count, variants: z.record(z.string().max(255), count).optional() }),
    ),
  }),
});

export const tooMany = () =>
  Object.assign(new Error('too many requests for this client token; retry later'), {
    statusCode: 429,
    code: 'TooManyRequests',
  });

/** The Unleash client API that server-side SDKs poll, register with and report metrics to. */
export function clientRoutes(r: TypedApp, g: Gantry): void {
  const api = g.clientApi;

  r.get(
    '/api/client/features',
    {
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
      bodyLimit: 1024 * 1024,
      schema: { tags: ['client'], summary: 'An SDK instance starts', body: registerBody },
    },
    async (req, reply) => {
      const { tokenId, tokenName, appId, env } = clientOf(req);
      if (!api.limiter.take(tokenId)) throw tooMany();
      const b = req.body;
      const started = b.started === undefined ? null : new Date(b.started).toISOString();
      api.metrics.addRegistration({
        appId,
        env,
        appName: b.appName,
        instanceId: b.instanceId ?? String(req.headers['unleash-instanceid'] ?? 'unknown'),
        sdkVersion: b.sdkVersion ?? (req.headers['unleash-sdk'] as string | undefined) ?? null,
        strategies: b.strategies ?? [],
        intervalMs: b.interval ?? null,
        startedAt: started,
        lastSeenAt: new Date().toISOString(),
        tokenId,
        tokenName,
      });
      return reply.code(202).send();
    },
  );

  r.post(
    '/api/client/metrics',
    {
      bodyLimit: 4 * 1024 * 1024,
      schema: { tags: ['client'], summary: 'Evaluation counts from an SDK (queued)', body: metricsBody },
    },
    async (req, reply) => {
      const { tokenId, appId, env } = clientOf(req);
      if (!api.limiter.take(tokenId)) throw tooMany();
      const b = req.body;
      const queued = api.metrics.addMetrics({
        appId,
        env,
        appName: b.appName,
        instanceId: b.instanceId ?? (req.headers['unleash-instanceid'] as string | undefined),
        start: b.bucket.start,
        toggles: b.bucket.toggles,
      });
      if (!queued) throw tooMany();
      return reply.code(202).send();
    },
  );
}
