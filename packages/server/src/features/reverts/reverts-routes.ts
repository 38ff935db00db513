import { revertSchema } from '@gantry/contracts';
import { z } from 'zod';
import type { TypedApp } from '../../http/route-kit.js';
import type { AppService } from '../apps/app-service.js';
import type { Reverter } from './reverter.js';

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface RevertsRoutesDeps {
  apps: Pick<AppService, 'get'>;
  reverter: Pick<Reverter, 'list'>;
}

export function revertsRoutes(r: TypedApp, g: RevertsRoutesDeps): void {
  r.get(
    '/api/reverts',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['deployments'],
        summary:
          "Gantry's automatic reverts, newest first: each failed check of the auto-deployed environment, what was blamed and why, every step, and the revert pushed or proposed",
        querystring: z.object({
          app: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(500).optional(),
        }),
        response: { 200: z.array(revertSchema) },
      },
    },
    async (req) => {
      const appId = req.query.app ? (await g.apps.get(req.query.app)).id : undefined;
      return g.reverter.list({ appId, limit: req.query.limit });
    },
  );
}
