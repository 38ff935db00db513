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

const n = z.number().nullable();
const headline = z.object({
  deploymentDaysPerWeek: n,
  deploymentsPerDay: n,
  leadTimeMedianMs: n,
  changeFailureRate: n,
  recoveryMedianMs: n,
  timeToRestoreMedianMs: n,
  reworkRate: n,
  rollbackP95Ms: n,
  buildP95Ms: n,
  releases: z.number(),
});
const trend = z.object({
  current: n,
  previous: n,
  change: n,
  direction: z.literal(['better', 'worse', 'same', null]),
});
const summary = { n: z.number(), median: n, p90: n, p95: n, max: n };
const sloReport = {
  ...summary,
  sloMs: z.number(),
  withinSlo: z.number(),
  withinSloShare: n,
  breaches: z.array(z.string()),
};
// A nullable enum as one `enum` holding null: OpenAPI 3.0's `nullable` does not extend an `enum`.
const band = z.literal(['elite', 'high', 'medium', 'low', null]);
const startDays = z.array(z.object({ start: z.string(), days: z.number() }));
const summaryBuckets = z.array(z.object({ start: z.string(), ...summary }));

/** The delivery metrics report (`gantry metrics --json`); the metrics' own fields are in docs/metrics.md. */
export const metricsReportSchema = z.object({
  app: z.string(),
  env: z.string(),
  from: z.string(),
  to: z.string(),
  bucket: z.enum(['day', 'week', 'month']),
  definitions: z.string(),
  deploymentFrequency: z.object({
    deployments: z.number(),
    rollbacks: z.number(),
    perDay: n,
    buckets: z.array(z.object({ start: z.string(), deployments: z.number(), rollbacks: z.number() })),
    deploymentDays: z.object({
      days: z.number(),
      weeks: startDays,
      medianPerWeek: n,
      months: startDays,
      medianPerMonth: n,
    }),
  }),
  leadTime: z.object({ ...summary, clockSkew: z.number(), buckets: summaryBuckets }),
  changeFailureRate: z.object({
    failed: z.number(),
    deployments: z.number(),
    rate: n,
    failedIds: z.array(z.string()),
  }),
  recoveryTime: z.object({
    ...summary,
    recoveries: z.array(
      z.object({
        deploymentId: z.string(),
        finishedAt: z.number(),
        failedAt: z.number(),
        recoveredAt: n,
        recoveryMs: n,
      }),
    ),
    open: z.array(z.string()),
  }),
  timeToRestore: z.object({ ...summary, open: z.array(z.string()), outOfOrder: z.array(z.string()) }),
  reworkRate: z.object({
    remediating: z.number(),
    deployments: z.number(),
    rate: n,
    byKind: z.object({ rollback: z.number(), revert: z.number(), 'fix-forward': z.number() }),
    rollForwards: z.number(),
  }),
  rollbackTime: z.object({
    ...sloReport,
    failed: z.number(),
    points: z.array(z.object({ id: z.string(), requestedAt: z.string(), durationMs: n })),
  }),
  buildTime: z.object({ ...sloReport, queue: z.object(summary), buckets: summaryBuckets }),
  releaseFrequency: z.object({
    releases: z.number(),
    releasesApplied: z.number(),
    togglesOn: z.number(),
    buckets: z.array(
      z.object({
        start: z.string(),
        releases: z.number(),
        releasesApplied: z.number(),
        togglesOn: z.number(),
      }),
    ),
  }),
  bands: z.object({
    source: z.string(),
    values: z.object({
      deploymentsPerDay: n,
      deploymentDaysPerWeek: n,
      deploymentDaysPerMonth: n,
      leadTimeMedianMs: n,
      changeFailureRate: n,
      recoveryMedianMs: n,
    }),
    deploymentFrequency: band,
    leadTime: band,
    changeFailureRate: band,
    recoveryTime: band,
  }),
  previous: z.object({ from: z.string(), to: z.string(), headline }),
  trend: z.object(
    Object.fromEntries(Object.keys(headline.shape).map((k) => [k, trend])) as {
      [K in keyof typeof headline.shape]: typeof trend;
    },
  ),
  series: z.array(
    z.object({
      start: z.string(),
      deployments: z.number(),
      rollbacks: z.number(),
      failed: z.number(),
      changeFailureRate: n,
      leadTimeMedianMs: n,
      recoveryMedianMs: n,
      releases: z.number(),
      releasesApplied: z.number(),
      togglesOn: z.number(),
      buildP50Ms: n,
      buildP95Ms: n,
    }),
  ),
  skipped: z.object({ unknownShas: z.number(), clockSkew: z.number(), incidentsOutOfOrder: z.number() }),
});

/** What the metrics routes use; the composition root (gantry.ts) passes these among all its services. */
export interface MetricsRoutesDeps {
  metrics: Pick<MetricsService, 'report' | 'exportEvents'>;
}

export function metricsRoutes(r: TypedApp, g: MetricsRoutesDeps): void {
  r.get(
    '/api/metrics',
    {
      config: { access: 'metrics:read' },
      schema: {
        tags: ['metrics'],
        summary:
          "Delivery metrics of an app's environment over [from, to): the four keys with DORA bands, rework, rollback and build times against their SLOs, releases, trend and one series point per bucket (definitions: docs/metrics.md)",
        querystring: metricsQuery,
        response: { 200: metricsReportSchema },
      },
    },
    async (req) => g.metrics.report(req.query),
  );

  r.get(
    '/api/metrics/events',
    {
      // The raw history (commits, actors), not the figures: a reader of the app, not a metrics reader.
      config: { access: 'apps:read' },
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
