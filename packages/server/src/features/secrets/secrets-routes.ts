import { keyRotationSchema, secretSchema, setSecretBodySchema } from '@gantry/contracts';
import { z } from 'zod';
import { actorOf, type TypedApp } from '../../http/route-kit.js';
import type { SecretService } from './secret-service.js';

/** What the secrets routes use; the composition root (gantry.ts) passes these among all its services. */
export interface SecretsRoutesDeps {
  secrets: Pick<SecretService, 'list' | 'set' | 'remove' | 'rotateKey'>;
}

const appParam = z.object({ app: z.string().max(200).describe('app name or id') });
// The name is checked by the service, so a bad one is answered with why (reserved, not a variable name).
const secretParams = appParam.extend({
  name: z.string().max(1000).describe('the variable name, e.g. DATABASE_URL'),
});

/**
 * An app's secrets, write-only: values go in and never come back out through the API; they reach a
 * build or a release only where gantry.yaml declares them.
 */
export function secretsRoutes(r: TypedApp, g: SecretsRoutesDeps): void {
  r.get(
    '/api/apps/:app/secrets',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['secrets'],
        summary: "The app's secrets: names, environments and who set them when; never a value",
        params: appParam,
        response: { 200: z.array(secretSchema) },
      },
    },
    async (req) => g.secrets.list(req.params.app),
  );

  r.put(
    '/api/apps/:app/secrets/:name',
    {
      config: { access: 'secrets:write' },
      schema: {
        tags: ['secrets'],
        summary: 'Set a secret, app-wide or for one environment (its value overrides the app-wide one)',
        params: secretParams,
        body: setSecretBodySchema,
        response: { 200: z.object({ secret: secretSchema, created: z.boolean() }) },
      },
    },
    async (req) => g.secrets.set(req.params.app, req.params.name, req.body, actorOf(req)),
  );

  r.delete(
    '/api/apps/:app/secrets/:name',
    {
      config: { access: 'secrets:write' },
      schema: {
        tags: ['secrets'],
        summary: "Remove a secret (app-wide, or with ?env= one environment's)",
        params: secretParams,
        querystring: z.object({ env: z.string().max(100).optional() }),
        response: { 200: z.object({ removed: z.literal(true) }) },
      },
    },
    async (req) => {
      await g.secrets.remove(req.params.app, req.params.name, req.query.env, actorOf(req));
      return { removed: true as const };
    },
  );

  r.post(
    '/api/secrets/rotate-key',
    {
      config: { access: 'server:admin' },
      schema: {
        tags: ['secrets'],
        summary:
          'Seal every secret with a new key and retire the old one; run again to finish an interrupted rotation',
        response: { 200: keyRotationSchema },
      },
    },
    async (req) => g.secrets.rotateKey(actorOf(req)),
  );
}
