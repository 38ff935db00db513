import { tokenInfoSchema } from '@gantry/contracts';
import { z } from 'zod';
import { InvalidInput } from '../../errors.js';
import { checkEnvironmentName } from '../../git/ref-names.js';
import { actorOf, authorize, type TypedApp } from '../../http/route-kit.js';
import { roleDescriptions, roles } from '../access/roles.js';
import type { AppService } from '../apps/app-service.js';
import { createdTokenSchema } from '../apps/apps-routes.js';
import { expiryOf } from './token-expiry.js';
import type { TokenService } from './token-service.js';

/** What the token routes use; the composition root (gantry.ts) passes these among all its services. */
export interface TokensRoutesDeps {
  apps: Pick<AppService, 'get'>;
  tokens: Pick<TokenService, 'create' | 'list' | 'revoke' | 'ownerOf'>;
}

const expiresField = z
  .string()
  .max(40)
  .optional()
  .describe('a lifetime (90d, 12h, 2w, 1y) or a date; never expires when left out');
const createdWithExpiry = createdTokenSchema;

export function tokensRoutes(r: TypedApp, g: TokensRoutesDeps): void {
  r.post(
    '/api/tokens',
    {
      config: { access: 'tokens:write' },
      schema: {
        tags: ['auth'],
        summary:
          'Create a service token with a role, on every app or bound to one app (and environment); it is shown once and stored hashed. A hook token names its app; unknown fields are refused',
        // Strict: an unknown field (a `kind` meant as a role, a misspelt `role`) must not fall back to admin.
        body: z
          .object({
            name: z.string().min(1).max(100),
            role: z
              .enum([...roles, 'metrics', 'hook'])
              .default('admin')
              .describe(
                `a service token's role (${roles.map((r) => `${r}: ${roleDescriptions[r]}`).join('; ')}), or hook: notify pushes of one app; metrics is the old name of metrics-reader`,
              ),
            app: z
              .string()
              .min(1)
              .optional()
              .describe("the app the role is bound to (a hook token's app); every app when left out"),
            env: z
              .string()
              .min(1)
              .optional()
              .describe('the environment of `app` the role is bound to; every environment when left out'),
            expires: expiresField,
          })
          .strict(),
        response: { 201: createdWithExpiry },
      },
    },
    async (req, reply) => {
      const { name, role, app, env } = req.body;
      const expiresAt = expiryOf(req.body.expires);
      if (role === 'hook' && app === undefined)
        throw new InvalidInput(
          'app: a hook token is bound to one app; name it (`gantry token create --role hook --app <app>`)',
          {
            field: 'app',
          },
        );
      if (env !== undefined && (app === undefined || role === 'hook'))
        throw new InvalidInput(
          role === 'hook'
            ? 'env: a hook token reports pushes of its whole app; leave env out'
            : 'env: a role is bound to an environment of one app; name the app too (`--app <app> --env <env>`)',
          { field: 'env' },
        );
      if (env !== undefined) checkEnvironmentName(env);
      const appId = app === undefined ? null : (await g.apps.get(app)).id;
      reply.status(201);
      return g.tokens.create(name, role, actorOf(req), appId, env ?? null, { expiresAt });
    },
  );

  r.get(
    '/api/tokens',
    {
      config: { access: 'tokens:write' },
      schema: {
        tags: ['auth'],
        summary:
          'Every service, hook and personal token (SDK tokens are listed per app), with when each was last used',
        response: { 200: z.array(tokenInfoSchema) },
      },
    },
    async () => g.tokens.list(),
  );

  r.get(
    '/api/me/tokens',
    {
      config: { access: 'signed-in' },
      schema: {
        tags: ['auth'],
        summary: "The signed-in person's own tokens",
        response: { 200: z.array(tokenInfoSchema) },
      },
    },
    async (req) => {
      const p = req.principal;
      if (!p?.userId)
        throw new InvalidInput(
          'personal tokens belong to people: sign in as a user, not with a service token',
        );
      return g.tokens.list({ userId: p.userId });
    },
  );

  r.post(
    '/api/me/tokens',
    {
      config: { access: 'signed-in' },
      schema: {
        tags: ['auth'],
        summary:
          "Create a personal token: it acts with its owner's rights as they are at each request, never more",
        body: z.object({ name: z.string().min(1).max(100), expires: expiresField }).strict(),
        response: { 201: createdWithExpiry },
      },
    },
    async (req, reply) => {
      const p = req.principal;
      if (!p?.userId)
        throw new InvalidInput(
          'personal tokens belong to people: sign in as a user, not with a service token',
        );
      const expiresAt = expiryOf(req.body.expires);
      reply.status(201);
      return g.tokens.create(req.body.name, 'personal', actorOf(req), null, null, {
        userId: p.userId,
        expiresAt,
      });
    },
  );

  r.delete(
    '/api/tokens/:id',
    {
      config: { access: 'signed-in' },
      schema: {
        tags: ['auth'],
        summary:
          'Revoke a token at once: requests with it fail and its event streams close (your own, or any with tokens:write)',
        params: z.object({ id: z.string().min(1).max(100) }),
        response: { 204: z.null().describe('done; no body') },
      },
    },
    async (req, reply) => {
      const owner = await g.tokens.ownerOf(req.params.id);
      const p = req.principal;
      if (!(p?.userId && owner.userId === p.userId)) authorize(req, 'tokens:write', {});
      await g.tokens.revoke(req.params.id, actorOf(req));
      return reply.code(204).send(null);
    },
  );
}
