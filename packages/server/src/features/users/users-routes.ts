import { z } from 'zod';
import { actorOf, type TypedApp } from '../../http/route-kit.js';
import { permissionsOf, roleDescriptions, roles } from '../access/roles.js';
import type { SessionService } from '../session/session-service.js';
import type { UserService } from './user-service.js';

/** What the people routes use; the composition root (gantry.ts) passes these among all its services. */
export interface UsersRoutesDeps {
  users: Pick<UserService, 'add' | 'update' | 'remove' | 'list' | 'get' | 'grant' | 'revoke' | 'bindings'>;
  sessions: Pick<SessionService, 'endForUser'>;
  tokens: { revokeForUser(userId: string, actor: string): Promise<number> };
}

const bindingSchema = z.object({
  id: z.string(),
  subject: z.string().describe('`user:<login>` or `group:<name>`'),
  role: z.enum(roles),
  app: z.string().nullable().describe('null: every app'),
  env: z.string().nullable().describe('null: every environment of the app'),
  createdAt: z.string(),
  createdBy: z.string(),
});

const userSchema = z.object({
  id: z.string(),
  login: z.string(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  groups: z.array(z.string()),
  source: z.string().describe('`local` or the single sign-on issuer'),
  disabled: z.boolean(),
  createdAt: z.string(),
  bindings: z.array(bindingSchema).describe("the user's own role bindings and its groups'"),
});

const loginParams = z.object({ login: z.string().min(1).max(200) });

export function usersRoutes(r: TypedApp, g: UsersRoutesDeps): void {
  r.get(
    '/api/roles',
    {
      config: { access: 'signed-in' },
      schema: {
        tags: ['access'],
        summary: 'The roles and the permissions each grants',
        response: {
          200: z.array(
            z.object({ role: z.enum(roles), description: z.string(), permissions: z.array(z.string()) }),
          ),
        },
      },
    },
    async () =>
      roles.map((role) => ({
        role,
        description: roleDescriptions[role],
        permissions: permissionsOf([{ role, app: null, env: null }]),
      })),
  );

  r.get(
    '/api/whoami',
    {
      config: { access: 'signed-in' },
      schema: {
        tags: ['access'],
        summary: 'Who the request acts as, its roles and what they permit',
        response: {
          200: z.object({
            kind: z.enum(['user', 'token']),
            name: z.string(),
            groups: z.array(z.string()),
            bindings: z.array(
              z.object({ role: z.enum(roles), app: z.string().nullable(), env: z.string().nullable() }),
            ),
            permissions: z
              .array(z.string())
              .describe('granted somewhere (on every app, one app or one environment)'),
          }),
        },
      },
    },
    async (req) => {
      const p = req.principal!;
      return {
        kind: p.kind,
        name: p.name,
        groups: p.groups,
        bindings: p.bindings,
        permissions: permissionsOf(p.bindings),
      };
    },
  );

  r.get(
    '/api/users',
    {
      config: { access: 'users:write' },
      schema: {
        tags: ['access'],
        summary: 'People, with their groups and role bindings',
        response: { 200: z.array(userSchema) },
      },
    },
    async () => g.users.list(),
  );

  r.post(
    '/api/users',
    {
      config: { access: 'users:write' },
      schema: {
        tags: ['access'],
        summary: 'Add a person with a local password (argon2id) or none (single sign-on only)',
        body: z
          .object({
            login: z.string().min(1).max(100),
            password: z
              .string()
              .max(1000)
              .optional()
              .describe('at least 10 characters; leave out for single sign-on only'),
            name: z.string().max(200).optional(),
            email: z.string().max(320).optional(),
            groups: z.array(z.string().max(200)).max(100).optional(),
          })
          .strict(),
        response: { 201: userSchema },
      },
    },
    async (req, reply) => {
      reply.status(201);
      return g.users.add(req.body, actorOf(req));
    },
  );

  r.get(
    '/api/users/:login',
    {
      config: { access: 'users:write' },
      schema: { tags: ['access'], summary: 'One person', params: loginParams, response: { 200: userSchema } },
    },
    async (req) => g.users.get(req.params.login),
  );

  r.patch(
    '/api/users/:login',
    {
      config: { access: 'users:write' },
      schema: {
        tags: ['access'],
        summary:
          "Change a person's password, name, groups, or disable them (their sessions end and tokens stop)",
        params: loginParams,
        body: z
          .object({
            password: z.string().max(1000).optional(),
            name: z.string().max(200).nullable().optional(),
            email: z.string().max(320).nullable().optional(),
            groups: z.array(z.string().max(200)).max(100).optional(),
            disabled: z.boolean().optional(),
          })
          .strict(),
        response: { 200: userSchema },
      },
    },
    async (req) => {
      const user = await g.users.update(req.params.login, req.body, actorOf(req));
      if (req.body.disabled === true || req.body.password !== undefined) await g.sessions.endForUser(user.id);
      return user;
    },
  );

  r.delete(
    '/api/users/:login',
    {
      config: { access: 'users:write' },
      schema: {
        tags: ['access'],
        summary:
          'Remove a person: their sessions end, their personal tokens are revoked, their role bindings go',
        params: loginParams,
        response: { 204: z.null().describe('done; no body') },
      },
    },
    async (req, reply) => {
      const user = await g.users.get(req.params.login);
      await g.sessions.endForUser(user.id);
      await g.tokens.revokeForUser(user.id, actorOf(req));
      await g.users.remove(req.params.login, actorOf(req));
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/api/role-bindings',
    {
      config: { access: 'users:write' },
      schema: { tags: ['access'], summary: 'Every role binding', response: { 200: z.array(bindingSchema) } },
    },
    async () => g.users.bindings(),
  );

  r.post(
    '/api/role-bindings',
    {
      config: { access: 'users:write' },
      schema: {
        tags: ['access'],
        summary: 'Bind a role to a person or a group, on every app, one app, or one environment of it',
        body: z
          .object({
            subject: z.string().min(1).max(300).describe('`user:<login>` or `group:<name>`'),
            role: z.string().min(1).max(50),
            app: z.string().min(1).max(100).optional(),
            env: z.string().min(1).max(100).optional(),
          })
          .strict(),
        response: { 201: bindingSchema },
      },
    },
    async (req, reply) => {
      reply.status(201);
      return g.users.grant(req.body, actorOf(req));
    },
  );

  r.delete(
    '/api/role-bindings/:id',
    {
      config: { access: 'users:write' },
      schema: {
        tags: ['access'],
        summary: 'Remove a role binding',
        params: z.object({ id: z.string().min(1).max(100) }),
        response: { 204: z.null().describe('done; no body') },
      },
    },
    async (req, reply) => {
      await g.users.revoke(req.params.id, actorOf(req));
      return reply.code(204).send(null);
    },
  );
}
