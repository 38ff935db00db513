import { incidentSchema } from '@gantry/contracts';
import { z } from 'zod';
import { actorOf, authorize, type TypedApp } from '../../http/route-kit.js';
import type { IncidentService } from './incident-service.js';

const idParam = z.object({ id: z.string() });
const actorField = z.string().max(200).optional().describe('who asked, e.g. the CLI user');
const timeField = (what: string) =>
  z.string().max(64).optional().describe(`${what} (ISO-8601 with a zone; not in the future); default now`);

/** What the incident routes use; the composition root (gantry.ts) passes these among all its services. */
export interface IncidentsRoutesDeps {
  incidents: Pick<IncidentService, 'open' | 'resolve' | 'list' | 'get'>;
}

export function incidentsRoutes(r: TypedApp, g: IncidentsRoutesDeps): void {
  const actor = (req: Parameters<typeof actorOf>[0], asked?: string) =>
    asked ? `${asked} (${actorOf(req)})` : actorOf(req);

  r.post(
    '/api/incidents',
    {
      config: { access: 'incidents:write' },
      schema: {
        tags: ['incidents'],
        summary:
          "Open an incident in an app's environment, optionally linked to the deployment that caused it",
        body: z.strictObject({
          app: z.string(),
          env: z.string(),
          deploymentId: z.string().optional(),
          title: z.string().max(500).optional().describe('default: "Incident in <app>/<env>"'),
          actor: actorField,
          openedAt: timeField('when it began, to record an incident after the fact'),
          resolvedAt: z
            .string()
            .max(64)
            .optional()
            .describe(
              'when it was resolved, for an incident recorded after the fact (ISO-8601 with a zone); not before openedAt (400)',
            ),
        }),
        response: { 201: incidentSchema },
      },
    },
    async (req, reply) => {
      const { actor: asked, ...body } = req.body;
      const incident = await g.incidents.open({ ...body, actor: actor(req, asked) });
      reply.status(201);
      return incident;
    },
  );

  r.post(
    '/api/incidents/:id/resolve',
    {
      config: { access: 'incidents:write', record: true },
      schema: {
        tags: ['incidents'],
        summary: 'Resolve an open incident (once); a resolvedAt before it opened is refused (400)',
        params: idParam,
        body: z.strictObject({ actor: actorField, resolvedAt: timeField('when it was resolved') }).nullish(),
        response: { 200: incidentSchema },
      },
    },
    async (req) => {
      const incident = await g.incidents.get(req.params.id);
      authorize(req, 'incidents:write', { app: incident.app, env: incident.env });
      return g.incidents.resolve(req.params.id, actor(req, req.body?.actor), req.body?.resolvedAt);
    },
  );

  r.get(
    '/api/incidents',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['incidents'],
        summary: 'Incidents, newest first',
        querystring: z.object({
          app: z.string().optional(),
          env: z.string().optional(),
          open: z
            .enum(['true', 'false'])
            .transform((v) => v === 'true')
            .optional()
            .describe('true: only unresolved; false: only resolved'),
          limit: z.coerce.number().int().min(1).max(1000).optional(),
        }),
        response: { 200: z.array(incidentSchema) },
      },
    },
    async (req) => g.incidents.list(req.query),
  );

  r.get(
    '/api/incidents/:id',
    {
      config: { access: 'apps:read' },
      schema: { tags: ['incidents'], params: idParam, response: { 200: incidentSchema } },
    },
    async (req) => g.incidents.get(req.params.id),
  );
}
