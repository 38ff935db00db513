import { z } from 'zod';
import type { Gantry } from '../../gantry.js';
import { actorOf, type TypedApp } from '../../http/http-app.js';
import { environmentStates } from './environment-status.js';

const appEnv = z.object({ app: z.string(), env: z.string() });

export function environmentsRoutes(r: TypedApp, g: Gantry): void {
  const deps = () => ({
    envs: g.envStore,
    deployments: g.deploymentStore,
    service: g.deployments,
    deployer: g.deployer,
    drivers: g.drivers,
    commits: g.commitStore,
  });

  r.get(
    '/api/status',
    {
      schema: {
        tags: ['environments'],
        summary: 'Every app × environment: what runs, health, locks, holds, queue',
      },
    },
    async () => {
      const out = [];
      for (const app of await g.apps.list()) out.push(...(await environmentStates(deps(), app)));
      return out;
    },
  );

  r.get(
    '/api/apps/:app/environments',
    { schema: { tags: ['environments'], params: z.object({ app: z.string() }) } },
    async (req) => environmentStates(deps(), await g.apps.get(req.params.app)),
  );

  r.post(
    '/api/apps/:app/environments/:env/lock',
    {
      schema: {
        tags: ['environments'],
        summary: 'Stop the line: no deployment starts until unlocked',
        params: appEnv,
        body: z.object({ reason: z.string().max(2000).optional(), actor: z.string().max(200).optional() }),
      },
    },
    async (req) =>
      g.deployments.lock(
        await g.apps.get(req.params.app),
        req.params.env,
        req.body.actor ?? actorOf(req),
        req.body.reason ?? null,
      ),
  );

  r.delete(
    '/api/apps/:app/environments/:env/lock',
    { schema: { tags: ['environments'], params: appEnv } },
    async (req) => g.deployments.unlock(await g.apps.get(req.params.app), req.params.env, actorOf(req)),
  );

  r.delete(
    '/api/apps/:app/environments/:env/hold',
    {
      schema: {
        tags: ['environments'],
        summary: 'Let auto-deploy bring a rolled-back SHA back',
        params: appEnv,
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      await g.deployments.releaseHold(app, req.params.env, actorOf(req));
      return { released: true };
    },
  );
}
