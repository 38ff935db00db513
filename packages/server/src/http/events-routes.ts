import { eventTypes } from '@gantry/contracts';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { EventBus } from '../events/event-bus.js';
import { EventFollower } from '../events/event-follower.js';
import type { EventStore } from '../events/event-store.js';
import { readableApps } from '../features/access/roles.js';
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
  apps: Pick<AppService, 'get' | 'list'>;
  events: Pick<EventStore, 'list' | 'lastId'>;
  bus: Pick<EventBus, 'waitForNext'>;
}

export function eventsRoutes(r: TypedApp, g: EventsRoutesDeps, streams: EventStreams): void {
  /**
   * Which events a principal may see: every one with a binding on every app; otherwise only its
   * apps' (server-wide events — people, tokens — are an admin's).
   */
  async function visible(req: FastifyRequest): Promise<(e: { appId: string | null }) => boolean> {
    const readable = req.principal ? readableApps(req.principal.bindings) : new Set<string>();
    if (readable === 'all') return () => true;
    const ids = new Set((await g.apps.list()).filter((a) => readable.has(a.name)).map((a) => a.id));
    return (e) => e.appId !== null && ids.has(e.appId);
  }

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
      config: { access: 'apps:read' },
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
      const maySee = await visible(req);
      return (await g.events.list({ ...q, appId, types: type ? [type] : undefined })).filter(maySee);
    },
  );

  r.get(
    '/api/events/stream',
    {
      config: { access: 'apps:read' },
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
      const after = Number.isFinite(lastEventId)
        ? lastEventId
        : (req.query.after ?? (await g.events.lastId()));
      const maySee = await visible(req);
      const stream = streams.start(req, reply);
      if (!stream) return reply;
      stream.retry(1_000);
      // In id order, waiting at an id whose transaction has not committed yet (another server's, often).
      const log = new EventFollower(g.events, after, { appId, subject, types: type ? [type] : undefined });
      while (!stream.closed) {
        const { events, more, heldMs } = await log.next(500);
        for (const e of events) if (maySee(e)) stream.send(e.type, JSON.stringify(e), e.id);
        if (more) continue;
        await g.bus.waitForNext(heldMs ? Math.min(heldMs, 1_000) : 1_000, stream.signal);
      }
    },
  );
}
