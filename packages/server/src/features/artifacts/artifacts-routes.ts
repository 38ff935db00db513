import { artifactSchema } from '@gantry/contracts';
import { z } from 'zod';
import { actorOf, type TypedApp } from '../../http/route-kit.js';
import type { AppService } from '../apps/app-service.js';
import type { ArtifactService } from './artifact-service.js';

const idParam = z.object({ id: z.string() });

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface ArtifactsRoutesDeps {
  apps: Pick<AppService, 'get'>;
  artifacts: Pick<ArtifactService, 'list' | 'get' | 'open' | 'prune'>;
}

export function artifactsRoutes(r: TypedApp, g: ArtifactsRoutesDeps): void {
  r.get(
    '/api/artifacts',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['artifacts'],
        querystring: z.object({
          app: z.string().optional(),
          sha: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(1000).optional(),
          includePruned: z
            .enum(['true', 'false'])
            .optional()
            .transform((v) => v === 'true'),
        }),
        response: { 200: z.array(artifactSchema) },
      },
    },
    async (req) => {
      const { app, ...q } = req.query;
      const appId = app ? (await g.apps.get(app)).id : undefined;
      return g.artifacts.list({ ...q, appId });
    },
  );

  r.get(
    '/api/artifacts/:id',
    {
      config: { access: 'apps:read' },
      schema: { tags: ['artifacts'], params: idParam, response: { 200: artifactSchema } },
    },
    async (req) => g.artifacts.get(req.params.id),
  );

  r.get(
    '/api/artifacts/:id/download',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['artifacts'],
        summary: 'The artifact as tar.gz; its sha256 is the digest',
        params: idParam,
      },
    },
    async (req, reply) => {
      const { artifact, stream } = await g.artifacts.open(req.params.id);
      reply
        .header('content-type', 'application/gzip')
        .header('content-length', String(artifact.size))
        .header(
          'digest',
          `sha-256=${Buffer.from(artifact.digest.replace(/^sha256:/, ''), 'hex').toString('base64')}`,
        )
        .header(
          'content-disposition',
          `attachment; filename="${artifact.app}-${artifact.sha.slice(0, 12)}.tar.gz"`,
        );
      return reply.send(stream);
    },
  );

  r.post(
    '/api/artifacts/prune',
    {
      config: { access: 'apps:write', everyApp: true },
      schema: {
        tags: ['artifacts'],
        body: z.object({ keepPerApp: z.number().int().min(1).optional(), dryRun: z.boolean().optional() }),
        response: {
          200: z.object({
            pruned: z.array(artifactSchema).describe('removed (dryRun: would be removed)'),
            kept: z.number(),
            freedBytes: z.number(),
          }),
        },
      },
    },
    async (req) => g.artifacts.prune({ ...req.body, actor: actorOf(req) }),
  );
}
