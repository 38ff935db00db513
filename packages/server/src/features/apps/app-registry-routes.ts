import { appRegistrySchema } from '@gantry/contracts';
import { z } from 'zod';
import { actorOf, type TypedApp } from '../../http/route-kit.js';
import type { AppService } from './app-service.js';

const appParam = z.object({ app: z.string().describe('app name or id') });
/** null: the app's images go to the server's registry (GANTRY_REGISTRY). */
const registryAnswer = { 200: z.object({ registry: appRegistrySchema.nullable() }) };

/**
 * An app's own registry for its images, set by an admin: gantry.yaml cannot name one, so a commit
 * cannot choose where the credentials go. Passwords are named (a variable of the server's
 * environment, or a file), never sent or stored.
 */
export function appRegistryRoutes(r: TypedApp, g: { apps: Pick<AppService, 'get' | 'setRegistry'> }): void {
  r.get(
    '/api/apps/:app/registry',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['apps'],
        summary: "The app's own registry for its images; null when it uses the server's (GANTRY_REGISTRY)",
        params: appParam,
        response: registryAnswer,
      },
    },
    async (req) => ({ registry: (await g.apps.get(req.params.app)).registry ?? null }),
  );

  r.put(
    '/api/apps/:app/registry',
    {
      config: { access: 'apps:write' },
      schema: {
        tags: ['apps'],
        summary: "Set where the app's images go instead of the server's registry",
        params: appParam,
        body: z
          .object({
            url: z.string().min(1).max(500).describe('host[:port][/prefix]'),
            insecure: z.boolean().optional().describe('plain HTTP; TLS is on otherwise'),
            username: z.string().max(200).nullish(),
            passwordEnv: z.string().max(200).nullish().describe("a variable of the server's environment"),
            passwordFile: z.string().max(4096).nullish().describe('an absolute path on the server'),
          })
          // Strict: a misspelt `insecure` would silently keep TLS off or on.
          .strict(),
        response: registryAnswer,
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      return { registry: await g.apps.setRegistry(app, req.body, actorOf(req)) };
    },
  );

  r.delete(
    '/api/apps/:app/registry',
    {
      config: { access: 'apps:write' },
      schema: {
        tags: ['apps'],
        summary: "Forget the app's own registry: its images go to the server's registry again",
        params: appParam,
        response: registryAnswer,
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      return { registry: await g.apps.setRegistry(app, null, actorOf(req)) };
    },
  );
}
