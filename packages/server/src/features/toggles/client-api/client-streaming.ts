import type { EventStreams } from '../../../http/event-stream.js';
import type { TypedApp } from '../../../http/route-kit.js';
import type { ClientApi } from './client-api.js';
import type { FeaturesEntry } from './client-features-cache.js';
import { clientOf, formFor } from './client-principal.js';
import { deltaBody, hydrationBody } from './delta-events.js';

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface ClientStreamingRoutesDeps {
  clientApi: Pick<ClientApi, 'features' | 'fetches' | 'watcher'>;
}

/**
 * Unleash's streaming mode (`experimentalMode: { type: 'streaming' }` in unleash-client): SSE with
 * `unleash-connected` carrying a hydration and `unleash-updated` carrying the delta to each newer
 * revision of the token's environment.
 */
export function clientStreamingRoutes(
  r: TypedApp,
  g: ClientStreamingRoutesDeps,
  streams: EventStreams,
): void {
  r.get(
    '/api/client/streaming',
    {
      config: { access: 'client' },
      schema: { tags: ['client'], summary: 'Server-sent toggle updates in Unleash streaming format' },
    },
    async (req, reply) => {
      const client = clientOf(req);
      const { appId, env } = client;
      const form = formFor(req.headers['unleash-client-spec'] ?? '5.2.0');
      const features = g.clientApi.features;
      let last: FeaturesEntry = await features.get(appId, env, form);
      const stream = streams.start(req, reply);
      if (!stream) return reply;
      const send = (event: string, body: string, id: number) => {
        stream.send(event, body, id);
        g.clientApi.fetches.record(req, client, id, String(id), 'streaming');
      };
      send('unleash-connected', hydrationBody(last), last.revision);

      let busy = false;
      let again = false;
      const update = async (): Promise<void> => {
        if (busy) {
          again = true;
          return;
        }
        busy = true;
        try {
          do {
            again = false;
            const next = await features.get(appId, env, form);
            if (next.revision <= last.revision || stream.closed) continue;
            const body = deltaBody(last, next);
            if (body) send('unleash-updated', body, next.revision);
            last = next;
          } while (again && !stream.closed);
        } catch (err) {
          req.log.warn({ err }, 'streaming toggle update failed');
        } finally {
          busy = false;
        }
      };
      stream.onClose(g.clientApi.watcher.watch(appId, env, () => void update()));
      // A change committed while the hydration was being built.
      void update();
    },
  );
}
