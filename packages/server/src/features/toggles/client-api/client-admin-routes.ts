import { z } from 'zod';
import { actorOf, type TypedApp } from '../../../http/route-kit.js';
import type { AppService } from '../../apps/app-service.js';
import type { TokenService } from '../../auth/token-service.js';
import type { ToggleService } from '../toggle-service.js';
import type { ClientApi } from './client-api.js';

const envName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'an environment name: lowercase letters, digits, "-"');

/** An SDK instance as the console lists it: what it registered, its token, its last fetch. */
const clientInstanceSchema = z.object({
  env: z.string(),
  appName: z.string(),
  instanceId: z.string(),
  sdkVersion: z.string().nullable(),
  strategies: z.array(z.string()),
  intervalMs: z.number().nullable(),
  startedAt: z.string().nullable(),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  tokenId: z.string().nullable().optional(),
  tokenName: z.string().nullable().optional(),
  fetched: z
    .object({
      revision: z.number(),
      etag: z.string().nullable(),
      mode: z.string().nullable(),
      at: z.string().nullable(),
    })
    .nullable(),
  currentRevision: z.number(),
  behind: z.boolean().nullable().describe('null: it never fetched'),
});

/** Admin side of the client API: SDK tokens, registered instances and usage counts. */
/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface ClientAdminRoutesDeps {
  apps: Pick<AppService, 'get'>;
  tokens: Pick<TokenService, 'createClientToken'>;
  toggles: Pick<ToggleService, 'get'>;
  clientApi: Pick<ClientApi, 'watcher' | 'usage'>;
}

export function clientAdminRoutes(r: TypedApp, g: ClientAdminRoutesDeps): void {
  r.post(
    '/api/apps/:app/client-tokens',
    {
      config: { access: 'apps:write' },
      schema: {
        tags: ['client'],
        summary:
          'Create an SDK token `<app>:<env>.<secret>` (`kind`: `client` for server SDKs and OFREP, `frontend` for the Frontend API); it is shown once and stored hashed',
        params: z.object({ app: z.string() }),
        body: z.strictObject({ env: envName, kind: z.enum(['client', 'frontend']).default('client') }),
        response: {
          201: z.object({
            token: z.string(),
            id: z.string(),
            app: z.string(),
            env: z.string(),
            kind: z.enum(['client', 'frontend']),
          }),
        },
      },
    },
    async (req, reply) => {
      const app = await g.apps.get(req.params.app);
      reply.status(201);
      return g.tokens.createClientToken(app, req.body.env, actorOf(req), req.body.kind);
    },
  );

  r.get(
    '/api/apps/:app/client-instances',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['client'],
        summary:
          'SDK instances that registered, reported metrics or fetched toggles: when last seen, with which token, and the revision they last fetched (`behind` when older than the environment’s)',
        params: z.object({ app: z.string() }),
        querystring: z.object({ env: envName.optional() }),
        response: { 200: z.array(clientInstanceSchema) },
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      await g.clientApi.watcher.ready();
      const list = await g.clientApi.usage.instances(app.id, req.query.env);
      return list.map(({ appId: _, ...c }) => {
        const currentRevision = g.clientApi.watcher.current(app.id, c.env);
        return { ...c, currentRevision, behind: c.fetched ? c.fetched.revision < currentRevision : null };
      });
    },
  );

  r.get(
    '/api/apps/:app/toggles/:name/usage',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['client'],
        summary: 'Hourly evaluation counts SDKs reported for a toggle, and when it was last evaluated',
        params: z.object({ app: z.string(), name: z.string() }),
        querystring: z.object({ days: z.coerce.number().int().min(1).max(366).default(30) }),
        response: {
          200: z.object({
            app: z.string(),
            toggle: z.string(),
            lastSeenAt: z.string().nullable(),
            yes: z.number(),
            no: z.number(),
            hours: z.array(
              z.object({
                appName: z.string(),
                env: z.string(),
                hour: z.string(),
                yes: z.number(),
                no: z.number(),
                variants: z.record(z.string(), z.number()),
                lastSeenAt: z.string(),
              }),
            ),
          }),
        },
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      const toggle = await g.toggles.get(app, req.params.name);
      const since = new Date(Date.now() - req.query.days * 86_400_000);
      since.setUTCMinutes(0, 0, 0);
      const [hours, lastSeenAt] = await Promise.all([
        g.clientApi.usage.usage(app.id, toggle.name, since.toISOString()),
        g.clientApi.usage.lastSeen(app.id, toggle.name),
      ]);
      return {
        app: app.name,
        toggle: toggle.name,
        lastSeenAt,
        yes: hours.reduce((n, h) => n + h.yes, 0),
        no: hours.reduce((n, h) => n + h.no, 0),
        hours: hours.map(({ appId: _, toggle: __, ...h }) => h),
      };
    },
  );
}
