import type { ServerResponse } from 'node:http';
import type { Gantry } from '../../../gantry.js';
import type { TypedApp } from '../../../http/http-app.js';
import type { FeaturesEntry } from './client-features-cache.js';
import { clientOf, formFor } from './client-principal.js';
import { type DeltaEvent, deltaEvents, hydration } from './delta-events.js';

const KEEP_ALIVE_MS = 15_000;

/**
 * Unleash's streaming mode (`experimentalMode: { type: 'streaming' }` in unleash-client): SSE with
 * `unleash-connected` carrying a hydration and `unleash-updated` carrying the delta to each newer
 * revision of the token's environment.
 */
export function clientStreamingRoutes(r: TypedApp, g: Gantry): void {
  const open = new Set<ServerResponse>();
  r.addHook('preClose', async () => {
    for (const res of open) res.end();
  });

  r.get(
    '/api/client/streaming',
    { schema: { tags: ['client'], summary: 'Server-sent toggle updates in Unleash streaming format' } },
    async (req, reply) => {
      const { appId, env } = clientOf(req);
      const form = formFor(req.headers['unleash-client-spec'] ?? '5.2.0');
      const features = g.clientApi.features;
      let last: FeaturesEntry = await features.get(appId, env, form);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const send = (event: string, events: DeltaEvent[], id: number) => {
        res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify({ events })}\n\n`);
      };
      send('unleash-connected', [hydration(last)], last.revision);
      open.add(res);

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
            if (next.revision <= last.revision || res.writableEnded) continue;
            const events = deltaEvents(last, next);
            if (events.length) send('unleash-updated', events, next.revision);
            last = next;
          } while (again && !res.writableEnded);
        } catch (err) {
          req.log.warn({ err }, 'streaming toggle update failed');
        } finally {
          busy = false;
        }
      };
      const unwatch = g.clientApi.watcher.watch(appId, env, () => void update());
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
      res.on('close', () => {
        unwatch();
        clearInterval(keepAlive);
        open.delete(res);
      });
      // A change committed while the hydration was being built.
      void update();
    },
  );
}
