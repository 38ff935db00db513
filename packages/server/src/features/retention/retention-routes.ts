import { retentionReportSchema, retentionStatusSchema } from '@gantry/contracts';
import { z } from 'zod';
import { actorOf, type TypedApp } from '../../http/route-kit.js';
import type { ArtifactRetention } from './retention-service.js';

export interface RetentionRoutesDeps {
  retention: Pick<ArtifactRetention, 'run' | 'status'>;
}

export function retentionRoutes(r: TypedApp, g: RetentionRoutesDeps): void {
  r.get(
    '/api/retention/policy',
    {
      config: { access: 'server:admin' },
      schema: {
        tags: ['artifacts'],
        summary: "The artifact retention policy and this server's last pass",
        response: { 200: retentionStatusSchema },
      },
    },
    async () => g.retention.status(),
  );

  r.post(
    '/api/retention/run',
    {
      config: { access: 'server:admin' },
      schema: {
        tags: ['artifacts'],
        summary:
          'Collects the artifacts the policy no longer keeps (tarballs from the data dir, images from their registry); dryRun lists them and why every other one stays',
        body: z
          .object({
            dryRun: z.boolean().optional(),
            keepPerApp: z
              .number()
              .int()
              .min(0)
              .optional()
              .describe("this run only, instead of the server's GANTRY_ARTIFACTS_KEEP"),
            maxAge: z
              .string()
              .regex(/^\d+[smhd]$/, 'expected a whole number and a unit (s, m, h, d), e.g. 14d')
              .optional()
              .describe("this run only, instead of the server's GANTRY_ARTIFACTS_MAX_AGE"),
          })
          .strict(),
        response: { 200: retentionReportSchema },
      },
    },
    async (req) => g.retention.run({ ...req.body, actor: actorOf(req) }),
  );
}
