import { releaseChangeSchema, releaseSchema } from '@gantry/contracts';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { actorOf, authorize, type TypedApp } from '../../http/route-kit.js';
import type { ReleaseService } from './release-service.js';

const nameParam = z.object({ name: z.string() });

/** What the release routes use; the composition root (gantry.ts) passes these among all its services. */
export interface ReleasesRoutesDeps {
  releases: Pick<
    ReleaseService,
    | 'list'
    | 'create'
    | 'get'
    | 'add'
    | 'schedule'
    | 'removeChange'
    | 'unschedule'
    | 'cancel'
    | 'apply'
    | 'revert'
  >;
}

export function releasesRoutes(r: TypedApp, g: ReleasesRoutesDeps): void {
  /** A release changes toggles in the environments it names: each needs releases:write there. */
  async function mayChange(req: FastifyRequest, name: string): Promise<void> {
    for (const c of (await g.releases.get(name)).changes)
      authorize(req, 'releases:write', { app: c.app, env: c.env });
  }

  r.get(
    '/api/releases',
    {
      config: { access: 'apps:read' },
      schema: { tags: ['releases'], response: { 200: z.array(releaseSchema) } },
    },
    async () => g.releases.list(),
  );

  r.post(
    '/api/releases',
    {
      config: { access: 'releases:write', record: true },
      schema: {
        tags: ['releases'],
        summary: 'Create a release: a named bundle of toggle changes with notes for stakeholders',
        body: z.strictObject({ name: z.string(), notes: z.string().max(20_000).default('') }),
        response: { 201: releaseSchema },
      },
    },
    async (req, reply) => {
      reply.status(201);
      return g.releases.create(req.body.name, req.body.notes, actorOf(req));
    },
  );

  r.get(
    '/api/releases/:name',
    {
      config: { access: 'apps:read' },
      schema: { tags: ['releases'], params: nameParam, response: { 200: releaseSchema } },
    },
    async (req) => g.releases.get(req.params.name),
  );

  r.post(
    '/api/releases/:name/changes',
    {
      config: { access: 'releases:write' },
      schema: {
        tags: ['releases'],
        params: nameParam,
        body: z.strictObject({
          app: z.string(),
          toggle: z.string(),
          env: z.string(),
          change: releaseChangeSchema,
        }),
        response: { 200: releaseSchema },
      },
    },
    async (req) =>
      g.releases.add(
        req.params.name,
        req.body.app,
        req.body.toggle,
        req.body.env,
        req.body.change,
        actorOf(req),
      ),
  );

  r.post(
    '/api/releases/:name/schedule',
    {
      config: { access: 'releases:write', record: true },
      schema: {
        tags: ['releases'],
        params: nameParam,
        body: z.strictObject({ at: z.string() }),
        response: { 200: releaseSchema },
      },
    },
    async (req) => {
      await mayChange(req, req.params.name);
      return g.releases.schedule(req.params.name, req.body.at, actorOf(req));
    },
  );

  r.delete(
    '/api/releases/:name/changes/:idx',
    {
      config: { access: 'releases:write', record: true },
      schema: {
        tags: ['releases'],
        summary:
          'Remove a change (its `idx`) from a draft or scheduled release; 409 with the release in `details` when it is neither',
        params: z.object({ name: z.string(), idx: z.coerce.number().int().min(0) }),
        response: { 200: releaseSchema },
      },
    },
    async (req) => {
      await mayChange(req, req.params.name);
      return g.releases.removeChange(req.params.name, req.params.idx, actorOf(req));
    },
  );

  r.post(
    '/api/releases/:name/unschedule',
    {
      config: { access: 'releases:write', record: true },
      schema: {
        tags: ['releases'],
        summary:
          'A scheduled release back to a draft; 409 with the release in `details` when it is not scheduled',
        params: nameParam,
        response: { 200: releaseSchema },
      },
    },
    async (req) => {
      await mayChange(req, req.params.name);
      return g.releases.unschedule(req.params.name, actorOf(req));
    },
  );

  r.post(
    '/api/releases/:name/cancel',
    {
      config: { access: 'releases:write', record: true },
      schema: {
        tags: ['releases'],
        summary:
          'Cancel a draft, scheduled or failed release (an applied one is reverted instead); 409 with the release in `details` otherwise',
        params: nameParam,
        response: { 200: releaseSchema },
      },
    },
    async (req) => {
      await mayChange(req, req.params.name);
      return g.releases.cancel(req.params.name, actorOf(req));
    },
  );

  r.post(
    '/api/releases/:name/apply',
    {
      config: { access: 'releases:write', record: true },
      schema: {
        tags: ['releases'],
        summary:
          'Apply every change in one transaction; exactly one of concurrent applies wins, the others get 409 with the release in `details`',
        params: nameParam,
        response: { 200: releaseSchema },
      },
    },
    async (req) => {
      await mayChange(req, req.params.name);
      return g.releases.apply(req.params.name, actorOf(req));
    },
  );

  r.post(
    '/api/releases/:name/revert',
    {
      config: { access: 'releases:write', record: true },
      schema: {
        tags: ['releases'],
        summary:
          'Restore the state each toggle had before the release; exactly one of concurrent reverts wins, the others get 409 with the release in `details`',
        params: nameParam,
        response: { 200: releaseSchema },
      },
    },
    async (req) => {
      await mayChange(req, req.params.name);
      return g.releases.revert(req.params.name, actorOf(req));
    },
  );
}
