import { z } from 'zod';
import type { TypedApp } from '../../http/route-kit.js';
import type { MetricsService } from './metrics-service.js';

const ms = z.coerce.number().int().positive();

export const metricsQuery = z.strictObject({
  app: z.string().min(1).optional().describe('app name; absent: every app with the environment, pooled'),
  env: z.string().optional().describe('environment; default production'),
  from: z.string().optional().describe('window start, ISO-8601, inclusive; default 28 days before `to`'),
  to: z.string().optional().describe('window end, ISO-8601, exclusive; default now'),
  bucket: z.enum(['day', 'week', 'month']).optional().describe('default week (ISO weeks, Monday UTC)'),
  rollbackSloMs: ms.optional().describe('default 60000'),
  buildSloMs: ms.optional().describe('default 600000'),
  incidentWindowMs: ms
    .optional()
    .describe('how long after a deployment an incident is blamed on it; default 24 h'),
});

/** What the metrics routes use; the composition root (gantry.ts) passes these among all its services. */
export interface MetricsRoutesDeps {
  metrics: Pick<MetricsService, 'report' | 'exportEvents'>;
}

export function metricsRoutes(r: TypedApp, g: MetricsRoutesDeps): void {
  r.get(
    '/api/metrics',
    {
      schema: {
        tags: ['metrics'],
        summary:
          "Delivery metrics of an app's environment over [from, to): the four keys with DORA bands, rework, rollback and build times against their SLOs, releases, trend and one series point per bucket (definitions: docs/metrics.md)",
        querystring: metricsQuery,
      },
    },
    async (req) => g.metrics.report(req.query),
  );

  r.get(
    '/api/metrics/events',
    {
      schema: {
        tags: ['metrics'],
        summary:
          'The history the metrics are computed from, in the events-file format of docs/metrics.md (`gantry events export`)',
        querystring: z.strictObject({ app: z.string().optional().describe('one app; default all') }),
      },
    },
    async (req) => g.metrics.exportEvents(req.query),
  );
}
