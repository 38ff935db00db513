import type { TypedApp } from '../../../http/route-kit.js';
import type { ClientApi } from './client-api.js';
import { clientOf, formFor } from './client-principal.js';

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface ClientDeltaRoutesDeps {
  clientApi: Pick<ClientApi, 'features' | 'delta' | 'fetches'>;
}

/** `GET /api/client/delta`: the token's environment as Unleash delta events. */
export function clientDeltaRoutes(r: TypedApp, g: ClientDeltaRoutesDeps): void {
  r.get(
    '/api/client/delta',
    {
      config: { access: 'client' },
      schema: {
        tags: ['client'],
        summary:
          "Toggles of the token's app and environment as Unleash delta events: a hydration, or the events since the revision in If-None-Match (304 when current)",
      },
    },
    async (req, reply) => {
      const client = clientOf(req);
      const { appId, env } = client;
      const api = g.clientApi;
      const form = formFor(req.headers['unleash-client-spec'] ?? '5.2.0');
      const entry = api.features.fresh(appId, env, form) ?? (await api.features.get(appId, env, form));
      const p = (req.query as { namePrefix?: unknown }).namePrefix;
      const prefix = typeof p === 'string' && p !== '' ? p : undefined;
      const answer = api.delta.answer(entry, req.headers['if-none-match'], prefix);
      reply.header('etag', answer.etag);
      api.fetches.record(req, client, entry.revision, answer.etag, 'delta');
      if (!answer.body) return reply.code(304).send();
      return reply.type('application/json; charset=utf-8').send(answer.body);
    },
  );
}
