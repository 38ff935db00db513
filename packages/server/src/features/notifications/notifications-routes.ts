import { z } from 'zod';
import { actorOf, type TypedApp } from '../../http/route-kit.js';
import { deliveryStatuses } from './delivery-store.js';
import { attemptSchema, deliverySchema, newWebhookSchema, webhookSchema } from './notification-schemas.js';
import type { NotificationService } from './notification-service.js';

/** What the notification routes use; the composition root (gantry.ts) passes these among all its services. */
export interface NotificationsRoutesDeps {
  notifications: Pick<
    NotificationService,
    | 'addWebhook'
    | 'listWebhooks'
    | 'getWebhook'
    | 'removeWebhook'
    | 'webhookDeliveries'
    | 'getDelivery'
    | 'redeliver'
  >;
}

const idParam = z.object({ id: z.string() });
const deliveryQuery = z.object({
  status: z.enum(deliveryStatuses).optional(),
  before: z.string().max(100).optional().describe('a delivery id: only older ones (paging)'),
  limit: z.coerce.number().int().min(1).max(500).optional().describe('default 50'),
});

/**
 * Outbound webhooks and their delivery log. They live under /api/notifications because
 * /api/webhooks/* is where the forges' inbound push webhooks arrive (unauthenticated, signed).
 */
export function notificationsRoutes(r: TypedApp, g: NotificationsRoutesDeps): void {
  r.post(
    '/api/notifications/webhooks',
    {
      config: { access: 'apps:write' },
      schema: {
        tags: ['notifications'],
        summary:
          "Send events to a URL: every app's or one app's, filtered by type, in Gantry's JSON or Slack's format",
        body: newWebhookSchema,
        response: { 201: webhookSchema },
      },
    },
    async (req, reply) => {
      const webhook = await g.notifications.addWebhook(req.body, actorOf(req));
      reply.status(201);
      return webhook;
    },
  );

  r.get(
    '/api/notifications/webhooks',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['notifications'],
        summary: 'Webhooks, oldest first, with counts of their deliveries',
        querystring: z.object({ app: z.string().optional().describe("only this app's own webhooks") }),
        response: { 200: z.array(webhookSchema) },
      },
    },
    async (req) => g.notifications.listWebhooks(req.query),
  );

  r.get(
    '/api/notifications/webhooks/:id',
    {
      config: { access: 'apps:read' },
      schema: { tags: ['notifications'], params: idParam, response: { 200: webhookSchema } },
    },
    async (req) => g.notifications.getWebhook(req.params.id),
  );

  r.delete(
    '/api/notifications/webhooks/:id',
    {
      config: { access: 'apps:write' },
      schema: {
        tags: ['notifications'],
        summary: 'Remove a webhook and its delivery log; what is still pending is not sent',
        params: idParam,
        response: { 200: webhookSchema },
      },
    },
    async (req) => g.notifications.removeWebhook(req.params.id, actorOf(req)),
  );

  r.get(
    '/api/notifications/webhooks/:id/deliveries',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['notifications'],
        summary: "A webhook's deliveries, newest first, each with its attempts",
        params: idParam,
        querystring: deliveryQuery,
        response: { 200: z.array(deliverySchema) },
      },
    },
    async (req) => g.notifications.webhookDeliveries(req.params.id, req.query),
  );

  r.get(
    '/api/notifications/deliveries/:id',
    {
      config: { access: 'apps:read' },
      schema: { tags: ['notifications'], params: idParam, response: { 200: deliverySchema } },
    },
    async (req) => g.notifications.getDelivery(req.params.id),
  );

  r.post(
    '/api/notifications/deliveries/:id/redeliver',
    {
      config: { access: 'apps:write' },
      schema: {
        tags: ['notifications'],
        summary:
          'Send a delivery again now (a new attempt, recorded); 409 while it is being sent. attempt is null when there is nothing to send any more',
        params: idParam,
        response: { 200: z.object({ delivery: deliverySchema, attempt: attemptSchema.nullable() }) },
      },
    },
    async (req) => g.notifications.redeliver(req.params.id),
  );
}
