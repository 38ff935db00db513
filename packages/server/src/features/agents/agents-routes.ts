import type { Readable } from 'node:stream';
import { agentLabelSchema } from '@gantry/contracts';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, type TypedApp } from '../../http/route-kit.js';
import type { AgentService } from './agent-service.js';

export interface AgentsRoutesDeps {
  agents: AgentService;
}

const labelsSchema = z.array(agentLabelSchema).min(1).max(32);
const jobParams = z.object({ id: z.string() });
const leaseBody = z.object({ lease: z.string().min(1) });
const agentInfo = z.object({
  id: z.string(),
  name: z.string(),
  labels: z.array(z.string()),
  createdAt: z.string(),
  lastSeenAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  connected: z.boolean(),
  hosts: z.array(z.object({ host: z.string(), seenAt: z.string(), expiresAt: z.string() })),
});

/** Admin routes for agent tokens, and the agent API (access `agent`: agent tokens only). See docs/agents.md. */
export function agentsRoutes(r: TypedApp, g: AgentsRoutesDeps): void {
  r.post(
    '/api/agents/tokens',
    {
      config: { access: 'server:admin' },
      schema: {
        tags: ['agents'],
        summary: 'Create an agent token with its labels (printed once; stored hashed)',
        body: z.object({
          name: z
            .string()
            .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/)
            .optional(),
          labels: labelsSchema,
        }),
        response: {
          201: agentInfo.pick({ id: true, name: true, labels: true }).extend({ token: z.string() }),
        },
      },
    },
    async (req, reply) => {
      const labels = [...new Set(req.body.labels)];
      const name = req.body.name ?? `agent-${labels.join('-')}`;
      reply.status(201);
      return g.agents.createToken(name, labels, actorOf(req));
    },
  );

  r.get(
    '/api/agents',
    {
      config: { access: 'server:admin' },
      schema: {
        tags: ['agents'],
        summary: 'Agent tokens, their labels and when each last asked for work',
        response: { 200: z.array(agentInfo) },
      },
    },
    async () => g.agents.list(),
  );

  r.delete(
    '/api/agents/tokens/:id',
    {
      config: { access: 'server:admin' },
      schema: { tags: ['agents'], summary: 'Revoke an agent token', params: jobParams },
    },
    async (req, reply) => {
      await g.agents.revoke(req.params.id, actorOf(req));
      reply.status(204);
    },
  );

  r.post(
    '/api/agent/claim',
    {
      config: { access: 'agent' },
      schema: {
        tags: ['agents'],
        summary: 'Take the oldest queued build whose runs_on labels this agent has (204: none)',
        body: z.object({ labels: labelsSchema.optional() }),
      },
    },
    async (req, reply) => {
      const job = await g.agents.claim(req.principal!, req.body.labels);
      if (!job) return reply.status(204).send();
      return job;
    },
  );

  r.get(
    '/api/agent/jobs/:id/source',
    {
      config: { access: 'agent' },
      schema: {
        tags: ['agents'],
        summary: "The source at the build's commit, as a tar.gz",
        params: jobParams,
        querystring: leaseBody,
      },
    },
    async (req, reply) => {
      const build = await g.agents.leased(req.principal!, req.params.id, req.query.lease);
      reply.header('content-type', 'application/gzip');
      return reply.send(await g.agents.source(build));
    },
  );

  r.post(
    '/api/agent/jobs/:id/heartbeat',
    {
      config: { access: 'agent' },
      schema: {
        tags: ['agents'],
        summary: 'Keep the lease; says whether the build was cancelled',
        params: jobParams,
        body: leaseBody,
      },
    },
    async (req) => {
      const build = await g.agents.leased(req.principal!, req.params.id, req.body.lease);
      return g.agents.heartbeat(req.principal!, build, req.body.lease);
    },
  );

  r.post(
    '/api/agent/jobs/:id/log',
    {
      config: { access: 'agent' },
      schema: {
        tags: ['agents'],
        summary: "Append output (base64) to a step's log",
        params: jobParams,
        body: leaseBody.extend({ step: z.number().int().min(0), data: z.base64() }),
      },
    },
    async (req, reply) => {
      const build = await g.agents.leased(req.principal!, req.params.id, req.body.lease);
      await g.agents.appendLog(build, req.body.step, Buffer.from(req.body.data, 'base64'));
      reply.status(204);
    },
  );

  r.post(
    '/api/agent/jobs/:id/steps/:idx',
    {
      config: { access: 'agent' },
      schema: {
        tags: ['agents'],
        summary: 'A step started or finished',
        params: jobParams.extend({ idx: z.coerce.number().int().min(0) }),
        body: leaseBody.extend({
          status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
          exitCode: z.number().int().nullable().optional(),
          tail: z.string().max(64_000).optional(),
        }),
      },
    },
    async (req, reply) => {
      const build = await g.agents.leased(req.principal!, req.params.id, req.body.lease);
      await g.agents.step(build, req.params.idx, req.body);
      reply.status(204);
    },
  );

  // The artifact's bytes come as a stream, checked against their digest as they are stored.
  r.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    scope.withTypeProvider<ZodTypeProvider>().put(
      '/api/agent/jobs/:id/artifact',
      {
        config: { access: 'agent' },
        schema: {
          tags: ['agents'],
          summary: 'Upload the packed artifact (application/octet-stream); stored once its sha256 matches',
          params: jobParams,
          querystring: leaseBody.extend({ digest: z.string() }),
        },
      },
      async (req) => {
        await g.agents.leased(req.principal!, req.params.id, req.query.lease);
        return g.agents.putArtifact(req.body as Readable, req.query.digest);
      },
    );
  });

  r.post(
    '/api/agent/jobs/:id/finish',
    {
      config: { access: 'agent' },
      schema: {
        tags: ['agents'],
        summary:
          'Finish the build: succeeded with the uploaded artifact or the pushed image (its digest read from the registry), or failed / cancelled',
        params: jobParams,
        body: z.union([
          leaseBody.extend({
            status: z.literal('succeeded'),
            kind: z.literal('image'),
            digest: z.string().optional(),
            tail: z.string().max(64_000).optional(),
          }),
          leaseBody.extend({
            status: z.literal('succeeded'),
            kind: z.literal('tarball').optional(),
            digest: z.string(),
            size: z.number().int().min(0),
          }),
          leaseBody.extend({
            status: z.enum(['failed', 'cancelled']),
            error: z.string().max(64_000),
            exitCode: z.number().int().nullable(),
          }),
        ]),
      },
    },
    async (req) => {
      const build = await g.agents.leased(req.principal!, req.params.id, req.body.lease);
      const { lease, ...finish } = req.body;
      return g.agents.finish(build, lease, finish);
    },
  );
}
