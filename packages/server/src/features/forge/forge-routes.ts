import { z } from 'zod';
import { actorOf, type TypedApp } from '../../http/route-kit.js';
import type { AppService } from '../apps/app-service.js';
import { auditChange } from '../audit/audit-change.js';
import { deliveryStatuses } from '../notifications/delivery-store.js';
import { deliverySchema } from '../notifications/notification-schemas.js';
import type { NotificationService } from '../notifications/notification-service.js';
import { type ForgeService, forgeViewSchema } from './forge-service.js';
import { forgeProviders } from './forge-settings.js';

/** What the forge routes use; the composition root (gantry.ts) passes these among all its services. */
export interface ForgeRoutesDeps {
  forge: Pick<ForgeService, 'get' | 'set' | 'clear'>;
  apps: Pick<AppService, 'get'>;
  notifications: Pick<NotificationService, 'deliveries'>;
}

const appParam = z.object({ app: z.string().describe('app name or id') });
const answer = { 200: z.object({ forge: forgeViewSchema.nullable() }) };

/**
 * Where an app's commit statuses and deployments go (GitHub, GitLab, Gitea). Set by an admin, never
 * by gantry.yaml, so a commit cannot send the token elsewhere.
 */
export function forgeRoutes(r: TypedApp, g: ForgeRoutesDeps): void {
  r.get(
    '/api/apps/:app/forge',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['forge'],
        summary: "Where the app's commit statuses and deployments go; null when nowhere",
        params: appParam,
        response: answer,
      },
    },
    async (req) => ({ forge: await g.forge.get(req.params.app) }),
  );

  r.put(
    '/api/apps/:app/forge',
    {
      config: { access: 'apps:write' },
      schema: {
        tags: ['forge'],
        summary: "Send the app's build and deployment statuses to its forge",
        params: appParam,
        body: z.strictObject({
          provider: z.enum(forgeProviders),
          apiUrl: z
            .string()
            .max(2048)
            .nullish()
            .describe(
              'GitHub: the API root (default https://api.github.com); GitLab, Gitea: the instance (default https://gitlab.com, https://gitea.com)',
            ),
          repo: z
            .string()
            .min(1)
            .max(500)
            .describe('owner/name; for GitLab also a project id or group/…/project'),
          token: z
            .string()
            .min(1)
            .max(1000)
            .nullish()
            .describe('write-only; omitted on a change: the stored one stays'),
          productionEnvironments: z
            .array(z.string().max(63))
            .max(50)
            .nullish()
            .describe("environments GitHub shows as production (default ['production'])"),
        }),
        response: { 200: z.object({ forge: forgeViewSchema }) },
      },
    },
    async (req) => {
      const before = await g.forge.get(req.params.app);
      const forge = await g.forge.set(req.params.app, req.body, actorOf(req));
      auditChange(req, { before, after: forge });
      return { forge };
    },
  );

  r.delete(
    '/api/apps/:app/forge',
    {
      config: { access: 'apps:write' },
      schema: {
        tags: ['forge'],
        summary: "Stop sending the app's statuses to its forge and forget its token",
        params: appParam,
        response: answer,
      },
    },
    async (req) => {
      const before = await g.forge.get(req.params.app);
      const forge = await g.forge.clear(req.params.app, actorOf(req));
      auditChange(req, { before, after: forge });
      return { forge };
    },
  );

  r.get(
    '/api/apps/:app/forge/deliveries',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['forge'],
        summary: "The calls made to the app's forge, newest first, each with its attempts",
        params: appParam,
        querystring: z.object({
          status: z.enum(deliveryStatuses).optional(),
          before: z.string().max(100).optional(),
          limit: z.coerce.number().int().min(1).max(500).optional(),
        }),
        response: { 200: z.array(deliverySchema) },
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      return g.notifications.deliveries({ target: `forge:${app.id}`, ...req.query });
    },
  );
}
