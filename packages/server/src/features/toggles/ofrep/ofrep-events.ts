import type { EventStreams } from '../../../http/event-stream.js';
import type { TypedApp } from '../../../http/route-kit.js';
import type { ClientApi } from '../client-api/client-api.js';
import { clientOf } from '../client-api/client-principal.js';

const REFETCH = JSON.stringify({ type: 'refetchEvaluation' });

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface OfrepEventsRoutesDeps {
  clientApi: Pick<ClientApi, 'watcher'>;
}

/**
 * OFREP's refetch notice (ADR-0008 event format) over server-sent events: one `message` per newer
 * revision of the token's environment, with the revision as the event id. It only notifies; clients
 * re-POST the bulk endpoint. Not advertised as `eventStreams`, since a browser's EventSource cannot
 * send the token.
 */
export function ofrepEventsRoutes(r: TypedApp, g: OfrepEventsRoutesDeps, streams: EventStreams): void {
  r.get(
    '/ofrep/v1/events',
    {
      config: { access: 'client' },
      schema: {
        tags: ['ofrep'],
        summary: "Server-sent refetch notices when the token's environment changes",
      },
    },
    async (req, reply) => {
      const { appId, env } = clientOf(req);
      const watcher = g.clientApi.watcher;
      await watcher.ready();
      const stream = streams.start(req, reply);
      if (!stream) return reply;
      const send = (revision: number) => stream.send('message', REFETCH, revision);
      stream.onClose(watcher.watch(appId, env, send));
      stream.comment('connected');
      // A client that resumes after missing a change refetches at once.
      const lastSeen = Number(req.headers['last-event-id']);
      const current = watcher.current(appId, env);
      if (Number.isFinite(lastSeen) && lastSeen < current) send(current);
    },
  );
}
