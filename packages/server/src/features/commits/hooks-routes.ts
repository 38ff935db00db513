import { z } from 'zod';
import { NotAllowed } from '../../errors.js';
import { actorOf, type TypedApp } from '../../http/route-kit.js';
import type { AppService } from '../apps/app-service.js';
import type { CommitService } from './commit-service.js';

/** What the git hook route uses; the composition root (gantry.ts) passes these among all its services. */
export interface HooksRoutesDeps {
  apps: Pick<AppService, 'get'>;
  commits: Pick<CommitService, 'ingest'>;
}

export function hooksRoutes(r: TypedApp, g: HooksRoutesDeps): void {
  r.post(
    '/api/hooks/git',
    {
      config: { access: 'hook' },
      schema: {
        tags: ['commits'],
        summary:
          "Called by the post-receive hook after a push; fetches and records at once. A hook token reports its own app's pushes only, as itself",
        body: z.object({
          app: z.string(),
          ref: z.string().optional(),
          before: z.string().optional(),
          after: z.string().optional(),
          pusher: z.string().max(200).optional(),
        }),
      },
    },
    async (req, reply) => {
      const principal = req.principal;
      const app = await g.apps.get(req.body.app);
      let actor = req.body.pusher ? `git:${req.body.pusher}` : actorOf(req);
      if (principal?.role === 'hook') {
        if (principal.appId === null) {
          throw new NotAllowed(
            `hook token "${principal.name}" is not bound to an app (it predates app-bound hook tokens); reinstall the hook with \`gantry hook install <repo> --app ${app.name}\``,
          );
        }
        if (principal.appId !== app.id)
          throw new NotAllowed(`this hook token may only report pushes of its own app, not of "${app.name}"`);
        // The hook's body is not trusted to say who pushed: the record names the token.
        actor = actorOf(req);
      }
      // Answer at once so the pusher is not held; the fetch and queueing happen right after.
      void g.commits.ingest(app, 'hook', actor).catch((err: unknown) => {
        req.log.warn({ err, app: app.name }, 'ingesting a hooked push failed; the poller will retry');
      });
      reply.status(202);
      return { accepted: true };
    },
  );
}
