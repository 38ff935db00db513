import { eventTypes } from '@gantry/contracts';
import { z } from 'zod';
import type { EventBus } from '../events/event-bus.js';
import type { EventStore } from '../events/event-store.js';
import type { AppService } from '../features/apps/app-service.js';
import type { EventStreams } from './event-stream.js';
import type { TypedApp } from './route-kit.js';

/** One entry of the event log (GantryEvent): what happened, to what, by whom. */
const eventSchema = z.object({
  id: z.number(),
  type: z.enum(eventTypes),
  appId: z.string().nullable(),
  subject: z.string().nullable().describe('the id of the thing the event is about (build id, commit SHA…)'),
  actor: z.string(),
  data: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});

export interface EventsRoutesDeps {
  apps: Pick<AppService, 'get'>;
  events: Pick<EventStore, 'list' | 'lastId'>;
  bus: Pick<EventBus, 'waitForNext'>;
}

export function eventsRoutes(r: TypedApp, g: EventsRoutesDeps, streams: EventStreams): void {
  const query = z.object({
    after: z.coerce.number().int().min(0).optional(),
    app: z.string().optional(),
    type: z.enum(eventTypes).optional(),
    subject: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  });

  r.get(
    '/api/events',
    {
      schema: {
        tags: ['events'],
        summary: 'The event log, oldest first',
        querystring: query,
        response: { 200: z.array(eventSchema) },
      },
    },
    async (req) => {
      const { app, type, ...q } = req.query;
      const appId = app ? (await g.apps.get(app)).id : undefined;
      return g.events.list({ ...q, appId, types: type ? [type] : undefined });
    },
  );

  r.get(
    '/api/events/stream',
    {
      schema: {
        tags: ['events'],
        summary: 'Server-sent events of the event log; resumable with Last-Event-ID',
        querystring: query,
      },
    },
    async (req, reply) => {
      const { app, type, subject } = req.query;
      const appId = app ? (await g.apps.get(app)).id : undefined;
      const lastEventId = Number(req.headers['last-event-id'] ?? Number.NaN);
      let after = Number.isFinite(lastEventId) ? lastEventId : (req.query.after ?? (await g.events.lastId()));
      const stream = streams.start(req, reply);
      if (!stream) return reply;
      stream.retry(1_000);
      while (!stream.closed) {
        const batch = await g.events.list({
          after,
          appId,
          subject,
          types: type ? [type] : undefined,
          limit: 500,
        });
        for (const e of batch) {
          stream.send(e.type, JSON.stringify(e), e.id);
          after = e.id;
        }
        if (batch.length === 500) continue;
        await g.bus.waitForNext(1_000, stream.signal);
      }
    },
  );
}
