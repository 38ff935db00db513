import { environmentHoldSchema, environmentLockSchema, environmentStateSchema } from '@gantry/contracts';
import { z } from 'zod';
import { NotFound } from '../../errors.js';
import { checkEnvironmentName } from '../../git/ref-names.js';
import { actorOf, type TypedApp } from '../../http/route-kit.js';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../apps/app-store.js';
import type { DeploymentService } from '../deployments/deployment-service.js';
import { environmentNames } from './environment-specs.js';
import { environmentStates, type StatusDeps } from './environment-status.js';
import type { EnvironmentStore } from './environment-store.js';
import { HealthCache, mapLimit } from './health-cache.js';

const appEnv = z.object({ app: z.string(), env: z.string() });

/** An environment's row after a lock or unlock: its port, the deployment serving it, its lock and hold. */
const environmentRecordSchema = z.object({
  id: z.string(),
  appId: z.string(),
  name: z.string(),
  port: z.number(),
  activeDeploymentId: z.string().nullable(),
  lease: z
    .object({ owner: z.string(), expiresAt: z.string() })
    .nullable()
    .describe('the server whose deployment holds the environment, and until when unless it renews'),
  fence: z.number().int().describe('grows at every claim and takeover of the environment by a deployment'),
  lock: environmentLockSchema.nullable(),
  hold: environmentHoldSchema.nullable(),
});

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface EnvironmentsRoutesDeps {
  apps: Pick<AppService, 'get' | 'list'>;
  envStore: StatusDeps['envs'];
  deploymentStore: StatusDeps['deployments'];
  deployments: StatusDeps['service'];
  deployer: StatusDeps['deployer'];
  drivers: StatusDeps['drivers'];
  commitStore: StatusDeps['commits'];
  /** The deploy agents' hosts and how each is reached (features/agents). */
  hostJobs: { addresses(): Promise<Map<string, string>> };
}

/**
 * The environment a lock or hold route names, checked before any row is written: a valid name that
 * gantry.yaml declares at the app's head (`orKnown`: or that already has a row, so old state can be
 * cleared). Anything else is a 400 or 404 with the reason.
 */
export async function declaredEnvironment(
  g: { envStore: Pick<EnvironmentStore, 'find'>; deployments: Pick<DeploymentService, 'configAt'> },
  app: AppRecord,
  env: string,
  opts: { orKnown?: boolean } = {},
): Promise<string> {
  if (opts.orKnown && (await g.envStore.find(app.id, env))) return env;
  checkEnvironmentName(env);
  const config = app.headSha ? await g.deployments.configAt(app, app.headSha) : undefined;
  const declared = environmentNames(config);
  if (declared.includes(env)) return env;
  throw new NotFound(
    `environment "${env}" is not declared in ${app.name}'s gantry.yaml` +
      (app.headSha ? ` at ${app.headSha.slice(0, 12)}` : '') +
      (declared.length ? ` (declared: ${declared.join(', ')})` : '; add an environments section'),
  );
}

export function environmentsRoutes(r: TypedApp, g: EnvironmentsRoutesDeps): void {
  // Status reads share health answers for a second, and probe several apps at once: with hundreds
  // of apps a read took a probe per environment, one after another (seconds under load).
  const health = new HealthCache(1_000);
  const deps = () => ({
    health,
    envs: g.envStore,
    deployments: g.deploymentStore,
    service: g.deployments,
    deployer: g.deployer,
    drivers: g.drivers,
    commits: g.commitStore,
    hostAddresses: () => g.hostJobs.addresses(),
  });

  r.get(
    '/api/status',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['environments'],
        summary: 'Every app × environment: what runs, health, locks, holds, queue',
        response: { 200: z.array(environmentStateSchema) },
      },
    },
    async () => (await mapLimit(await g.apps.list(), 8, (app) => environmentStates(deps(), app))).flat(),
  );

  r.get(
    '/api/apps/:app/environments',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['environments'],
        params: z.object({ app: z.string() }),
        response: { 200: z.array(environmentStateSchema) },
      },
    },
    async (req) => environmentStates(deps(), await g.apps.get(req.params.app)),
  );

  r.post(
    '/api/apps/:app/environments/:env/lock',
    {
      config: { access: 'environments:write' },
      schema: {
        tags: ['environments'],
        summary: 'Stop the line: no deployment starts until unlocked',
        params: appEnv,
        body: z
          .object({ reason: z.string().max(2000).optional(), actor: z.string().max(200).optional() })
          .strict(),
        response: { 200: environmentRecordSchema },
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      const env = await declaredEnvironment(g, app, req.params.env);
      return g.deployments.lock(app, env, req.body.actor ?? actorOf(req), req.body.reason ?? null);
    },
  );

  r.delete(
    '/api/apps/:app/environments/:env/lock',
    {
      config: { access: 'environments:write' },
      schema: { tags: ['environments'], params: appEnv, response: { 200: environmentRecordSchema } },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      const env = await declaredEnvironment(g, app, req.params.env, { orKnown: true });
      return g.deployments.unlock(app, env, actorOf(req));
    },
  );

  r.delete(
    '/api/apps/:app/environments/:env/hold',
    {
      config: { access: 'environments:write' },
      schema: {
        tags: ['environments'],
        summary: 'Let auto-deploy bring a rolled-back SHA back',
        params: appEnv,
        response: { 200: z.object({ released: z.literal(true) }) },
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      const env = await declaredEnvironment(g, app, req.params.env, { orKnown: true });
      await g.deployments.releaseHold(app, env, actorOf(req));
      return { released: true as const };
    },
  );
}
