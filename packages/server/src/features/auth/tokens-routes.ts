import { z } from 'zod';
import { InvalidInput } from '../../errors.js';
import { actorOf, type TypedApp } from '../../http/route-kit.js';
import type { AppService } from '../apps/app-service.js';
import { createdTokenSchema } from '../apps/apps-routes.js';
import type { TokenService } from './token-service.js';

/** What the token routes use; the composition root (gantry.ts) passes these among all its services. */
export interface TokensRoutesDeps {
  apps: Pick<AppService, 'get'>;
  tokens: Pick<TokenService, 'create'>;
}

export function tokensRoutes(r: TypedApp, g: TokensRoutesDeps): void {
  r.post(
    '/api/tokens',
    {
      schema: {
        tags: ['auth'],
        summary:
          'Create an API token; it is shown once and stored hashed. A hook token names its app; a metrics token may only read the metrics (Prometheus); unknown fields are refused',
        // Strict: an unknown field (a `kind` meant as a role, a misspelt `role`) must not fall back to admin.
        body: z
          .object({
            name: z.string().min(1).max(100),
            role: z
              .enum(['admin', 'hook', 'metrics'])
              .default('admin')
              .describe(
                'admin: every route; hook: notify pushes of one app; metrics: read GET /metrics and GET /api/metrics only',
              ),
            app: z.string().min(1).optional().describe('the app a hook token may report pushes for'),
          })
          .strict(),
        response: { 201: createdTokenSchema },
      },
    },
    async (req, reply) => {
      const { name, role, app } = req.body;
      if (role === 'hook' && app === undefined)
        throw new InvalidInput(
          'app: a hook token is bound to one app; name it (`gantry token create --role hook --app <app>`)',
          {
            field: 'app',
          },
        );
      if (role !== 'hook' && app !== undefined)
        throw new InvalidInput(`app: only hook tokens are bound to an app, not ${role} tokens`, {
          field: 'app',
        });
      const appId = app === undefined ? null : (await g.apps.get(app)).id;
      reply.status(201);
      return g.tokens.create(name, role, actorOf(req), appId);
    },
  );
}
