import { checkKind, checkRunSchema, deploymentSchema } from '@gantry/contracts';
import { z } from 'zod';
import type { TypedApp } from '../../http/route-kit.js';
import type { DeploymentService } from '../deployments/deployment-service.js';
import type { CheckStore } from './check-store.js';
import type { Verifier } from './verifier.js';

const checksAnswerSchema = z.object({
  deployment: deploymentSchema,
  /** The checks gantry.yaml declares for the environment at the deployment's SHA, in order. */
  declared: z.array(
    z.object({ name: z.string(), kind: z.enum(['run', 'http', 'watch']), retries: z.number() }),
  ),
  runs: z.array(checkRunSchema),
});

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface ChecksRoutesDeps {
  deployments: Pick<DeploymentService, 'get'>;
  checkStore: Pick<CheckStore, 'list'>;
  verifier: Pick<Verifier, 'checksOf'>;
}

export function checksRoutes(r: TypedApp, g: ChecksRoutesDeps): void {
  r.get(
    '/api/deployments/:id/checks',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['deployments'],
        summary:
          "A deployment's post-deploy checks: those declared for its environment and every run of each (retries included), with output",
        params: z.object({ id: z.string() }),
        response: { 200: checksAnswerSchema },
      },
    },
    async (req) => {
      const deployment = await g.deployments.get(req.params.id);
      const declared = await g.verifier.checksOf(deployment).catch(() => []);
      return {
        deployment,
        declared: declared.map((c) => ({
          name: c.name,
          kind: checkKind(c),
          retries: c.retries,
        })),
        runs: await g.checkStore.list(deployment.id),
      };
    },
  );
}
