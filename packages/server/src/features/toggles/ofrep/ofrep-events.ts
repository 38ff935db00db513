import type { ServerResponse } from 'node:http';
import type { Gantry } from '../../../gantry.js';
import type { TypedApp } from '../../../http/http-app.js';
import { clientOf } from '../client-api/client-principal.js';

const KEEP_ALIVE_MS = 15_000;
const REFETCH = JSON.stringify({ type: 'refetchEvaluation' });

/**
 * OFREP's refetch notice (ADR-0008 event format) over server-sent events: one `message` per newer
 * revision of the token's environment, with the revision as the event id. It only notifies; clients
 * re-POST the bulk endpoint. Not advertised as `eventStreams`, since a browser's EventSource cannot
 * send the token.
 */
export function ofrepEventsRoutes(r: TypedApp, g: Gantry): void {
  const open = new Set<ServerResponse>();
  r.addHook('preClose', async () => {
    for (const res of open) res.end();
  });

  r.get(
    '/ofrep/v1/events',
    {
      schema: {
        tags: ['ofrep'],
        summary: "Server-sent refetch notices when the token's environment changes",
      },
    },
    async (req, reply) => {
      const { appId, env } = clientOf(req);
      const watcher = g.clientApi.watcher;
      await watcher.ready();
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const send = (revision: number) => res.write(`id: ${revision}\nevent: message\ndata: ${REFETCH}\n\n`);
      open.add(res);
      const unwatch = watcher.watch(appId, env, send);
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
      res.on('close', () => {
        unwatch();
        clearInterval(keepAlive);
        open.delete(res);
      });
      res.write(': connected\n\n');
      // A client that resumes after missing a change refetches at once.
      const lastSeen = Number(req.headers['last-event-id']);
      const current = watcher.current(appId, env);
      if (Number.isFinite(lastSeen) && lastSeen < current) send(current);
    },
  );
}
