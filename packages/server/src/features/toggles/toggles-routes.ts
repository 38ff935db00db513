import {
  constraintSchema,
  dependencySchema,
  segmentSchema,
  strategySchema,
  toggleNameSchema,
  toggleSchema,
  toggleTypes,
  variantSchema,
} from '@gantry/contracts';
import { z } from 'zod';
import { InvalidInput } from '../../errors.js';
import { actorOf, type TypedApp } from '../../http/route-kit.js';
import type { AppService } from '../apps/app-service.js';
import { auditChange } from '../audit/audit-change.js';
import { importUnleashState } from './toggle-import.js';
import { diffEnvironments, staleToggles } from './toggle-reports.js';
import { envState, type ToggleService } from './toggle-service.js';

const appParam = z.object({ app: z.string() });
const toggleParam = z.object({ app: z.string(), name: z.string() });
const envParam = z.object({
  app: z.string(),
  name: z.string(),
  env: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
});

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface TogglesRoutesDeps {
  apps: Pick<AppService, 'get'>;
  toggles: Pick<
    ToggleService,
    | 'list'
    | 'get'
    | 'create'
    | 'update'
    | 'setEnvironment'
    | 'rollout'
    | 'archive'
    | 'upsertSegment'
    | 'readStore'
    | 'importState'
  >;
}

export function togglesRoutes(r: TypedApp, g: TogglesRoutesDeps): void {
  r.get(
    '/api/apps/:app/toggles',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['toggles'],
        params: appParam,
        querystring: z.object({ archived: z.enum(['true', 'false']).optional() }),
        response: { 200: z.array(toggleSchema) },
      },
    },
    async (req) => g.toggles.list(await g.apps.get(req.params.app), req.query.archived === 'true'),
  );

  r.post(
    '/api/apps/:app/toggles',
    {
      config: { access: 'toggles:define' },
      schema: {
        tags: ['toggles'],
        summary: 'Create a toggle (off in every environment until enabled)',
        params: appParam,
        body: z.strictObject({
          name: toggleNameSchema,
          type: z.enum(toggleTypes).optional(),
          description: z.string().max(2000).optional(),
          owner: z.string().max(200).nullable().optional(),
          impressionData: z.boolean().optional(),
          dependencies: z.array(dependencySchema).optional(),
        }),
        response: { 201: toggleSchema },
      },
    },
    async (req, reply) => {
      reply.status(201);
      return g.toggles.create(await g.apps.get(req.params.app), req.body, actorOf(req));
    },
  );

  r.get(
    '/api/apps/:app/toggles/:name',
    {
      config: { access: 'apps:read' },
      schema: { tags: ['toggles'], params: toggleParam, response: { 200: toggleSchema } },
    },
    async (req) => g.toggles.get(await g.apps.get(req.params.app), req.params.name),
  );

  r.patch(
    '/api/apps/:app/toggles/:name',
    {
      config: { access: 'toggles:define' },
      schema: {
        tags: ['toggles'],
        params: toggleParam,
        body: z.strictObject({
          type: z.enum(toggleTypes).optional(),
          description: z.string().max(2000).optional(),
          owner: z.string().max(200).nullable().optional(),
          impressionData: z.boolean().optional(),
          dependencies: z.array(dependencySchema).optional(),
        }),
        response: { 200: toggleSchema },
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      const before = await g.toggles.get(app, req.params.name);
      const after = await g.toggles.update(app, req.params.name, req.body, actorOf(req));
      auditChange(req, { before, after });
      return after;
    },
  );

  r.put(
    '/api/apps/:app/toggles/:name/environments/:env',
    {
      config: { access: 'toggles:write' },
      schema: {
        tags: ['toggles'],
        summary: "Set a toggle's state in one environment: enabled, strategies, variants (each optional)",
        params: envParam,
        body: z.strictObject({
          enabled: z.boolean().optional(),
          strategies: z.array(strategySchema).optional(),
          variants: z.array(variantSchema).optional(),
        }),
        response: { 200: toggleSchema },
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      const before = envState(await g.toggles.get(app, req.params.name), req.params.env);
      const after = await g.toggles.setEnvironment(
        app,
        req.params.name,
        req.params.env,
        req.body,
        actorOf(req),
      );
      // Who turned what on, where: the environment's state before and after, in the audit log.
      auditChange(req, { before, after: envState(after, req.params.env) });
      return after;
    },
  );

  r.post(
    '/api/apps/:app/toggles/:name/environments/:env/rollout',
    {
      config: { access: 'toggles:write' },
      schema: {
        tags: ['toggles'],
        summary: 'Roll out to a share of users (flexibleRollout, sticky on userId/sessionId)',
        params: envParam,
        body: z.strictObject({ percent: z.number() }),
        response: { 200: toggleSchema },
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      const before = envState(await g.toggles.get(app, req.params.name), req.params.env);
      const after = await g.toggles.rollout(
        app,
        req.params.name,
        req.params.env,
        req.body.percent,
        actorOf(req),
      );
      auditChange(req, { before, after: envState(after, req.params.env) });
      return after;
    },
  );

  r.post(
    '/api/apps/:app/toggles/:name/archive',
    {
      config: { access: 'toggles:define' },
      schema: { tags: ['toggles'], params: toggleParam, response: { 200: toggleSchema } },
    },
    async (req) => g.toggles.archive(await g.apps.get(req.params.app), req.params.name, actorOf(req)),
  );

  r.get(
    '/api/apps/:app/segments',
    {
      config: { access: 'apps:read' },
      schema: { tags: ['toggles'], params: appParam, response: { 200: z.array(segmentSchema) } },
    },
    async (req) => g.toggles.readStore().segments((await g.apps.get(req.params.app)).id),
  );

  r.put(
    '/api/apps/:app/segments/:name',
    {
      config: { access: 'toggles:define' },
      schema: {
        tags: ['toggles'],
        params: z.object({ app: z.string(), name: z.string().min(1).max(100) }),
        body: z.strictObject({ description: z.string().default(''), constraints: z.array(constraintSchema) }),
        response: { 200: segmentSchema },
      },
    },
    async (req) =>
      g.toggles.upsertSegment(
        await g.apps.get(req.params.app),
        req.params.name,
        req.body.description,
        req.body.constraints,
        actorOf(req),
      ),
  );

  r.post(
    '/api/apps/:app/toggles/import',
    {
      config: { access: 'toggles:define' },
      schema: {
        tags: ['toggles'],
        summary:
          "Load toggles and segments in Unleash's client-API JSON shape into one environment (creates or replaces them)",
        params: appParam,
        querystring: z.object({ env: z.string().regex(/^[a-z0-9][a-z0-9-]*$/) }),
        body: z.object({
          features: z.array(z.record(z.string(), z.unknown())),
          segments: z.array(z.record(z.string(), z.unknown())).optional(),
        }),
        response: { 200: z.object({ imported: z.number(), segments: z.number() }) },
      },
    },
    async (req) =>
      importUnleashState(g.toggles, await g.apps.get(req.params.app), req.query.env, req.body, actorOf(req)),
  );
}

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface ToggleReportRoutesDeps {
  apps: Pick<AppService, 'get'>;
  toggles: Pick<ToggleService, 'get' | 'list' | 'setEnvironment'>;
  /** Last time SDKs reported each toggle in an app's environment, when usage metrics are collected. */
  toggleUsage?: (appId: string, env: string) => Promise<Map<string, string> | undefined>;
}

export function toggleReportRoutes(r: TypedApp, g: ToggleReportRoutesDeps): void {
  r.post(
    '/api/apps/:app/toggles/:name/copy',
    {
      config: { access: 'toggles:define' },
      schema: {
        tags: ['toggles'],
        summary:
          "Copy a toggle's state from one environment to another; returns the difference (dryRun: only that)",
        params: toggleParam,
        body: z.strictObject({ from: z.string(), to: z.string(), dryRun: z.boolean().default(false) }),
        response: {
          200: z.object({
            diff: z.array(
              z.object({
                field: z.enum(['enabled', 'strategies', 'variants']),
                from: z.unknown(),
                to: z.unknown(),
              }),
            ),
            toggle: toggleSchema,
            applied: z.boolean(),
          }),
        },
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      const t = await g.toggles.get(app, req.params.name);
      if (!t.environments.some((e) => e.env === req.body.from)) {
        throw new InvalidInput(`toggle "${t.name}" has no state in "${req.body.from}" to copy`);
      }
      const diff = diffEnvironments(t, req.body.from, req.body.to);
      if (req.body.dryRun || diff.length === 0) return { diff, toggle: t, applied: false };
      const source = envState(t, req.body.from);
      const toggle = await g.toggles.setEnvironment(app, t.name, req.body.to, source, actorOf(req));
      return { diff, toggle, applied: true };
    },
  );

  r.get(
    '/api/apps/:app/toggles-stale',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['toggles'],
        summary: 'Toggles fully on for more than N days, or not evaluated for N days: candidates for removal',
        params: appParam,
        querystring: z.object({
          env: z.string().default('production'),
          days: z.coerce.number().int().min(0).default(30),
        }),
        response: {
          200: z.array(
            z.object({
              name: z.string(),
              reason: z.enum(['fully-on', 'not-evaluated']),
              since: z.string().nullable(),
              days: z.number(),
            }),
          ),
        },
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      const toggles = await g.toggles.list(app);
      const lastEvaluated = g.toggleUsage ? await g.toggleUsage(app.id, req.query.env) : undefined;
      return staleToggles(toggles, req.query.env, req.query.days, Date.now(), lastEvaluated);
    },
  );
}
