import { deploymentSchema, isRollbackTrigger } from '@gantry/contracts';
import { z } from 'zod';
import type { TypedApp } from '../../http/route-kit.js';
import type { AppService } from '../apps/app-service.js';
import { DEFAULT_ROLLBACK_SLO_MS } from '../metrics/engine/metrics.js';
import type { DeploymentService } from './deployment-service.js';
import { commitLine, commitLineSchema, type ReleaseFactsDeps } from './release-facts.js';

const timelineSchema = z.object({
  deployment: deploymentSchema,
  commit: commitLineSchema.nullable(),
  previousCommit: commitLineSchema.nullable(),
  totalMs: z.number().nullable().describe('requested → finished, as the metrics time a rollback'),
  rollbackSloMs: z
    .number()
    .nullable()
    .describe('the rollback time SLO the metrics hold a rollback to; null when this is no rollback'),
});

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface DeploymentTimelineRoutesDeps {
  apps: Pick<AppService, 'getById'>;
  commitStore: ReleaseFactsDeps['commitStore'];
  deployments: Pick<DeploymentService, 'get'>;
}

export function deploymentTimelineRoutes(r: TypedApp, g: DeploymentTimelineRoutesDeps): void {
  r.get(
    '/api/deployments/:id/timeline',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['deployments'],
        summary:
          'A deployment with its commit, the commit it replaced, its total time and (for a rollback) the rollback SLO; its phases are on the deployment',
        params: z.object({ id: z.string() }),
        response: { 200: timelineSchema },
      },
    },
    async (req) => {
      const d = await g.deployments.get(req.params.id);
      const app = await g.apps.getById(d.appId);
      return {
        deployment: d,
        commit: await commitLine(g, app, d.sha),
        previousCommit: d.previousSha ? await commitLine(g, app, d.previousSha) : null,
        totalMs: d.finishedAt ? Date.parse(d.finishedAt) - Date.parse(d.requestedAt) : null,
        rollbackSloMs: isRollbackTrigger(d.trigger) ? DEFAULT_ROLLBACK_SLO_MS : null,
      };
    },
  );
}
