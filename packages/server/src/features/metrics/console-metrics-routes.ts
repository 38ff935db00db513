import { z } from 'zod';
import type { Database } from '../../db/database.js';
import type { TypedApp } from '../../http/route-kit.js';
import type { AppService } from '../apps/app-service.js';
import { appEnvironmentNames } from '../environments/environment-status.js';
import { metricsQuery } from './metrics-routes.js';
import type { MetricsService } from './metrics-service.js';
import { renderReportHtml } from './report-html.js';
import { SqlMetricsStore } from './sql-metrics-store.js';

/** Every app and the environments metrics can be asked for: what the console's filters offer. */
export const metricsScopesSchema = z.object({
  apps: z.array(
    z.object({
      name: z.string(),
      environments: z.array(z.string()).describe('declared in gantry.yaml, set up, or deployed to'),
    }),
  ),
});

/** What these routes use; the composition root (gantry.ts) passes these among all its services. */
export interface ConsoleMetricsRoutesDeps {
  metrics: Pick<MetricsService, 'report'>;
  apps: Pick<AppService, 'list'>;
  database: Pick<Database, 'db'>;
  envStore: Parameters<typeof appEnvironmentNames>[0]['envs'];
  deployments: Parameters<typeof appEnvironmentNames>[0]['service'];
}

/**
 * What the console's metrics page reads besides GET /api/metrics, with the same `metrics:read`: the
 * apps and environments to filter by, and the HTML report (`gantry report --html`) of a query.
 */
export function consoleMetricsRoutes(r: TypedApp, g: ConsoleMetricsRoutesDeps): void {
  const store = new SqlMetricsStore(g.database.db);

  r.get(
    '/api/metrics/scopes',
    {
      config: { access: 'metrics:read' },
      schema: {
        tags: ['metrics'],
        summary:
          'The apps and their environments that GET /api/metrics can be asked about (app, env), for a metrics token too',
        response: { 200: metricsScopesSchema },
      },
    },
    async () => {
      const apps = await g.apps.list();
      const out = [];
      for (const app of apps) {
        const declared = await appEnvironmentNames({ envs: g.envStore, service: g.deployments }, app);
        const deployed = await store.deployedEnvs(app.id);
        out.push({ name: app.name, environments: [...new Set([...declared, ...deployed])] });
      }
      return { apps: out.sort((a, b) => a.name.localeCompare(b.name)) };
    },
  );

  r.get(
    '/api/metrics/report',
    {
      config: { access: 'metrics:read' },
      schema: {
        tags: ['metrics'],
        summary:
          'The HTML report of GET /api/metrics for the same query (`gantry report --html`): one self-contained page, no scripts (text/html)',
        querystring: metricsQuery,
        response: { 200: z.string().describe('the report page, text/html') },
      },
    },
    async (req, reply) => {
      const report = await g.metrics.report(req.query);
      reply.type('text/html; charset=utf-8');
      return renderReportHtml(report, { generatedAt: new Date().toISOString() });
    },
  );
}
