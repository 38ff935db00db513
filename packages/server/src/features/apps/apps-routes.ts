import { z } from 'zod';
import { actorOf, type TypedApp } from '../../http/route-kit.js';
import type { TokenService } from '../auth/token-service.js';
import type { CommitService } from '../commits/commit-service.js';
import type { CommitStore } from '../commits/commit-store.js';
import { appRegistryRoutes } from './app-registry-routes.js';
import { type AppRemovalDeps, removeApp } from './app-removal.js';
import type { AppService } from './app-service.js';
import type { AppRecord } from './app-store.js';

const appParam = z.object({ app: z.string().describe('app name or id') });

/** The app as the API shows it: the webhook secret only on creation and to admins who ask. */
export function publicApp({
  webhookSecret: _secret,
  removedAt: _removed,
  registry: _registry,
  ...app
}: AppRecord) {
  return app;
}

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface AppsRoutesDeps extends AppRemovalDeps {
  apps: Pick<AppService, 'list' | 'add' | 'get' | 'getById' | 'markRemoved' | 'removeMirror' | 'setRegistry'>;
  commits: Pick<CommitService, 'ingest'>;
  commitStore: Pick<CommitStore, 'list' | 'pushes'>;
  tokens: Pick<TokenService, 'create' | 'revokeForApp'>;
}

export function appsRoutes(r: TypedApp, g: AppsRoutesDeps): void {
  appRegistryRoutes(r, g);
  r.get('/api/apps', { schema: { tags: ['apps'], summary: 'List apps' } }, async () =>
    (await g.apps.list()).map(publicApp),
  );

  r.post(
    '/api/apps',
    {
      schema: {
        tags: ['apps'],
        summary: 'Register a repository as an app; mirrors it and records its current head',
        body: z
          .object({
            name: z.string(),
            repoUrl: z.string().min(1),
            branch: z.string().min(1).optional(),
            pollIntervalMs: z.number().int().min(0).optional(),
            webhookSecret: z.string().min(8).optional(),
          })
          // Strict: a misspelt `branch` would silently follow main.
          .strict(),
      },
    },
    async (req, reply) => {
      const app = await g.apps.add(req.body, actorOf(req));
      const ingest = await g.commits.ingest(app, 'manual', actorOf(req));
      reply.status(201);
      return {
        ...publicApp(await g.apps.getById(app.id)),
        webhookSecret: app.webhookSecret,
        buildIds: ingest.buildIds,
      };
    },
  );

  r.get('/api/apps/:app', { schema: { tags: ['apps'], params: appParam } }, async (req) =>
    publicApp(await g.apps.get(req.params.app)),
  );

  const flag = z.enum(['true', 'false']).optional();
  r.delete(
    '/api/apps/:app',
    {
      schema: {
        tags: ['apps'],
        summary:
          'Remove an app: 409 while environments run unless stopEnvironments; keeps its history unless purge; removes its mirror and its hook and client tokens',
        params: appParam,
        querystring: z.object({ stopEnvironments: flag, purge: flag }).strict(),
        body: z
          .object({ stopEnvironments: z.boolean().optional(), purge: z.boolean().optional() })
          .strict()
          .nullish(),
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      const opts = {
        stopEnvironments: req.body?.stopEnvironments ?? req.query.stopEnvironments === 'true',
        purge: req.body?.purge ?? req.query.purge === 'true',
      };
      return removeApp(g, app, opts, actorOf(req));
    },
  );

  r.get(
    '/api/apps/:app/webhook-secret',
    {
      schema: {
        tags: ['apps'],
        summary: 'The secret webhooks of this app are signed with',
        params: appParam,
      },
    },
    async (req) => ({ webhookSecret: (await g.apps.get(req.params.app)).webhookSecret }),
  );

  r.get(
    '/api/apps/:app/commits',
    {
      schema: {
        tags: ['commits'],
        params: appParam,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }),
      },
    },
    async (req) => g.commitStore.list((await g.apps.get(req.params.app)).id, { limit: req.query.limit }),
  );

  r.get(
    '/api/apps/:app/pushes',
    {
      schema: {
        tags: ['commits'],
        params: appParam,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }),
      },
    },
    async (req) => g.commitStore.pushes((await g.apps.get(req.params.app)).id, { limit: req.query.limit }),
  );

  r.post(
    '/api/apps/:app/sync',
    {
      schema: {
        tags: ['commits'],
        summary: 'Fetch the repository now and record new commits',
        params: appParam,
      },
    },
    async (req) => g.commits.ingest(await g.apps.get(req.params.app), 'manual', actorOf(req)),
  );

  r.post(
    '/api/apps/:app/hook-token',
    {
      schema: {
        tags: ['apps'],
        summary: "Create a token that may only notify this app's pushes, for a post-receive hook",
        params: appParam,
      },
    },
    async (req, reply) => {
      const app = await g.apps.get(req.params.app);
      reply.status(201);
      return g.tokens.create(`hook:${app.name}`, 'hook', actorOf(req), app.id);
    },
  );
}
