import { Readable } from 'node:stream';
import { artifactSchema, buildResourceSchema, buildStatuses } from '@gantry/contracts';
import { z } from 'zod';
import { actorOf, authorize, type TypedApp } from '../../http/route-kit.js';
import type { AppService } from '../apps/app-service.js';
import { streamBuildLogs } from './build-logs.js';
import type { BuildService } from './build-service.js';

const idParam = z.object({ id: z.string() });

/** A build request's answer: a new build (201), the one already running, or the artifact the SHA already has. */
const buildRequestResultSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('queued'), build: buildResourceSchema }),
  z.object({ kind: z.literal('in-progress'), build: buildResourceSchema }),
  z.object({ kind: z.literal('artifact-exists'), artifact: artifactSchema }),
]);

/** What the build routes use; the composition root (gantry.ts) passes these among all its services. */
export interface BuildsRoutesDeps {
  apps: Pick<AppService, 'get'>;
  /** Whole, for the log stream (streamBuildLogs). */
  builds: BuildService;
}

export function buildsRoutes(r: TypedApp, g: BuildsRoutesDeps): void {
  r.get(
    '/api/builds',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['builds'],
        summary: 'List builds, newest first',
        querystring: z.object({
          app: z.string().optional(),
          status: z.enum(buildStatuses).optional(),
          sha: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(500).optional(),
          before: z.string().optional().describe('cursor: a build id; returns older builds'),
        }),
        response: { 200: z.array(buildResourceSchema) },
      },
    },
    async (req) => {
      const { app, ...q } = req.query;
      const appId = app ? (await g.apps.get(app)).id : undefined;
      return g.builds.list({ ...q, appId });
    },
  );

  r.post(
    '/api/builds',
    {
      config: { access: 'builds:write' },
      schema: {
        tags: ['builds'],
        summary: 'Build a ref (SHA, short SHA, tag, branch, HEAD~2); never twice unless rebuild',
        body: z.object({
          app: z.string(),
          ref: z.string().default('HEAD'),
          rebuild: z.boolean().default(false),
        }),
        response: { 200: buildRequestResultSchema, 201: buildRequestResultSchema },
      },
    },
    async (req, reply) => {
      const res = await g.builds.requestRef(req.body.app, req.body.ref, {
        reason: req.body.rebuild ? 'rebuild' : 'manual',
        actor: actorOf(req),
        rebuild: req.body.rebuild,
      });
      reply.status(res.kind === 'queued' ? 201 : 200);
      return res;
    },
  );

  r.get(
    '/api/builds/:id',
    {
      config: { access: 'apps:read' },
      schema: { tags: ['builds'], params: idParam, response: { 200: buildResourceSchema } },
    },
    async (req) => g.builds.get(req.params.id),
  );

  r.post(
    '/api/builds/:id/cancel',
    {
      config: { access: 'builds:write', record: true },
      schema: { tags: ['builds'], params: idParam, response: { 200: buildResourceSchema } },
    },
    async (req) => {
      const build = await g.builds.get(req.params.id);
      authorize(req, 'builds:write', { app: build.app });
      return g.builds.cancel(req.params.id, actorOf(req));
    },
  );

  r.get(
    '/api/builds/:id/logs',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['builds'],
        summary: 'Step logs as plain text; `follow=true` streams until the build finishes',
        params: idParam,
        querystring: z.object({
          step: z.coerce.number().int().min(0).optional(),
          follow: z
            .enum(['true', 'false', '1', '0'])
            .optional()
            .transform((v) => v === 'true' || v === '1'),
        }),
      },
    },
    async (req, reply) => {
      await g.builds.get(req.params.id);
      const ac = new AbortController();
      reply.raw.on('close', () => ac.abort());
      reply.header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-cache');
      return reply.send(
        Readable.from(
          streamBuildLogs(g.builds, req.params.id, {
            step: req.query.step,
            follow: req.query.follow,
            signal: ac.signal,
          }),
        ),
      );
    },
  );
}
