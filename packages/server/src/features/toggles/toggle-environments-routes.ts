import { z } from 'zod';
import type { TypedApp } from '../../http/route-kit.js';
import type { AppService } from '../apps/app-service.js';
import { appEnvironmentNames } from '../environments/environment-status.js';
import type { ToggleService } from './toggle-service.js';

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface ToggleEnvironmentRoutesDeps {
  apps: Pick<AppService, 'get'>;
  toggles: Pick<ToggleService, 'list'>;
  envStore: Parameters<typeof appEnvironmentNames>[0]['envs'];
  deployments: Parameters<typeof appEnvironmentNames>[0]['service'];
}

/** The columns of `gantry toggles list`: environments along the promotion path. */
export function toggleEnvironmentRoutes(r: TypedApp, g: ToggleEnvironmentRoutesDeps): void {
  r.get(
    '/api/apps/:app/toggle-environments',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['toggles'],
        summary:
          "Environments in promotion order (gantry.yaml's at the app's head, then any other with a toggle state), so a toggle never touched in one shows as off there",
        params: z.object({ app: z.string() }),
        response: { 200: z.object({ environments: z.array(z.string()) }) },
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      const declared = await appEnvironmentNames({ envs: g.envStore, service: g.deployments }, app);
      const toggles = await g.toggles.list(app);
      const touched = [...new Set(toggles.flatMap((t) => t.environments.map((e) => e.env)))].sort();
      return { environments: [...declared, ...touched.filter((e) => !declared.includes(e))] };
    },
  );
}
