import { z } from 'zod';
import type { Gantry } from '../../gantry.js';
import { actorOf, type TypedApp } from '../../http/http-app.js';

export function hooksRoutes(r: TypedApp, g: Gantry): void {
  r.post(
    '/api/hooks/git',
    {
      schema: {
        tags: ['commits'],
        summary: 'Called by the post-receive hook after a push; fetches and records at once',
        body: z.object({
          app: z.string(),
          ref: z.string().optional(),
          before: z.string().optional(),
          after: z.string().optional(),
          pusher: z.string().optional(),
        }),
      },
    },
    async (req, reply) => {
      const app = await g.apps.get(req.body.app);
      const actor = req.body.pusher ? `git:${req.body.pusher}` : actorOf(req);
      // Answer at once so the pusher is not held; the fetch and queueing happen right after.
      void g.commits.ingest(app, 'hook', actor).catch((err: unknown) => {
        req.log.warn({ err, app: app.name }, 'ingesting a hooked push failed; the poller will retry');
      });
      reply.status(202);
      return { accepted: true };
    },
  );
}
