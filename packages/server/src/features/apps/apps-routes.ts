import { appSchema, commitSchema } from '@gantry/contracts';
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

/** A push the server learnt of (webhook, hook, poll or sync) and the commits it brought. */
const pushSchema = z.object({
  id: z.string(),
  appId: z.string(),
  ref: z.string(),
  beforeSha: z.string().nullable(),
  afterSha: z.string(),
  forced: z.boolean(),
  source: z.string(),
  commitCount: z.number(),
  dropped: z.array(z.string()),
  createdAt: z.string(),
});

/** What a fetch of the repository found: the push it recorded (none when nothing moved), new commits, builds queued. */
const ingestResultSchema = z.object({
  push: pushSchema.optional(),
  newCommits: z.array(z.string()),
  buildIds: z.array(z.string()),
});

const removedAppSchema = z.object({
  app: z.string(),
  id: z.string(),
  purged: z.boolean(),
  stoppedEnvironments: z.array(z.string()),
  cancelledBuilds: z.array(z.string()),
});

/** A new API token: shown once, stored hashed. */
export const createdTokenSchema = z.object({
  token: z.string(),
  id: z.string(),
  expiresAt: z.string().nullable().describe('null: never'),
});

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
  r.get(
    '/api/apps',
    {
      config: { access: 'apps:read' },
      schema: { tags: ['apps'], summary: 'List apps', response: { 200: z.array(appSchema) } },
    },
    async () => (await g.apps.list()).map(publicApp),
  );

  r.post(
    '/api/apps',
    {
      config: { access: 'apps:write', everyApp: true },
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
        response: {
          201: appSchema.extend({
            webhookSecret: z
              .string()
              .describe('shown here once; GET /api/apps/:app/webhook-secret for admins'),
            buildIds: z.array(z.string()),
          }),
        },
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

  r.get(
    '/api/apps/:app',
    {
      config: { access: 'apps:read' },
      schema: { tags: ['apps'], params: appParam, response: { 200: appSchema } },
    },
    async (req) => publicApp(await g.apps.get(req.params.app)),
  );

  const flag = z.enum(['true', 'false']).optional();
  r.delete(
    '/api/apps/:app',
    {
      config: { access: 'apps:write' },
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
        response: { 200: removedAppSchema },
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
      config: { access: 'apps:write' },
      schema: {
        tags: ['apps'],
        summary: 'The secret webhooks of this app are signed with',
        params: appParam,
        response: { 200: z.object({ webhookSecret: z.string() }) },
      },
    },
    async (req) => ({ webhookSecret: (await g.apps.get(req.params.app)).webhookSecret }),
  );

  r.get(
    '/api/apps/:app/commits',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['commits'],
        params: appParam,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }),
        response: { 200: z.array(commitSchema) },
      },
    },
    async (req) => g.commitStore.list((await g.apps.get(req.params.app)).id, { limit: req.query.limit }),
  );

  r.get(
    '/api/apps/:app/pushes',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['commits'],
        params: appParam,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }),
        response: { 200: z.array(pushSchema) },
      },
    },
    async (req) => g.commitStore.pushes((await g.apps.get(req.params.app)).id, { limit: req.query.limit }),
  );

  r.post(
    '/api/apps/:app/sync',
    {
      config: { access: 'builds:write' },
      schema: {
        tags: ['commits'],
        summary: 'Fetch the repository now and record new commits',
        params: appParam,
        response: { 200: ingestResultSchema },
      },
    },
    async (req) => g.commits.ingest(await g.apps.get(req.params.app), 'manual', actorOf(req)),
  );

  r.post(
    '/api/apps/:app/hook-token',
    {
      config: { access: 'apps:write' },
      schema: {
        tags: ['apps'],
        summary: "Create a token that may only notify this app's pushes, for a post-receive hook",
        params: appParam,
        response: { 201: createdTokenSchema },
      },
    },
    async (req, reply) => {
      const app = await g.apps.get(req.params.app);
      reply.status(201);
      return g.tokens.create(`hook:${app.name}`, 'hook', actorOf(req), app.id);
    },
  );
}
