import { agentLabelSchema } from '@gantry/contracts';
import { z } from 'zod';
import { NotFound } from '../../errors.js';
import type { EventStore } from '../../events/event-store.js';
import type { TypedApp } from '../../http/route-kit.js';
import type { AppService } from '../apps/app-service.js';
import { driverEventType } from '../deployments/driver-events.js';
import type { HostJobs } from './host-jobs.js';

export interface HostJobsRoutesDeps {
  hostJobs: HostJobs;
  apps: Pick<AppService, 'get'>;
  events: Pick<EventStore, 'append'>;
}

const instance = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);
const jobParams = z.object({ id: z.string().max(64) });

/**
 * The deploy-agent API (access `agent`): an agent process asks for the driver calls of the hosts it
 * holds, fetches a release's tarball, reports phases, the result, and its apps' crashes. See
 * docs/agents.md.
 */
export function hostJobsRoutes(r: TypedApp, g: HostJobsRoutesDeps): void {
  r.post(
    '/api/agent/hosts/claim',
    {
      config: { access: 'agent' },
      schema: {
        tags: ['agents'],
        summary:
          'Hold the hosts among this agent’s labels and take the oldest driver call for them, waiting up to waitMs (204: none)',
        body: z.object({
          instance,
          waitMs: z.number().int().min(0).max(60_000).default(20_000),
          labels: z.array(agentLabelSchema).max(32).optional(),
          /** How this machine is reached (`gantry agent --address`): the environments' URLs say it. */
          address: z
            .string()
            .regex(/^[A-Za-z0-9.:[\]_-]{1,255}$/)
            .optional(),
        }),
      },
    },
    async (req, reply) => {
      const gone = new AbortController();
      req.raw.once('close', () => gone.abort());
      reply.raw.once('close', () => gone.abort());
      const job = await g.hostJobs.claim(
        req.principal!,
        req.body.instance,
        req.body.waitMs,
        req.body.labels,
        gone.signal,
        req.body.address,
      );
      if (!job) return reply.status(204).send();
      return job;
    },
  );

  r.get(
    '/api/agent/host-jobs/:id/artifact',
    {
      config: { access: 'agent' },
      schema: {
        tags: ['agents'],
        summary: "The tarball of the job's release (application/gzip)",
        params: jobParams,
        querystring: z.object({ instance }),
      },
    },
    async (req, reply) => {
      const tarball = await g.hostJobs.tarball(req.query.instance, req.params.id);
      reply.header('content-type', 'application/gzip');
      return reply.send(tarball);
    },
  );

  r.post(
    '/api/agent/host-jobs/:id/start',
    {
      config: { access: 'agent' },
      schema: {
        tags: ['agents'],
        summary: 'The agent starts the job it was offered (409: it went back to the queue)',
        params: jobParams,
        body: z.object({ instance }),
      },
    },
    async (req, reply) => {
      await g.hostJobs.start(req.body.instance, req.params.id);
      reply.status(204);
    },
  );

  r.post(
    '/api/agent/host-jobs/:id/phase',
    {
      config: { access: 'agent' },
      schema: {
        tags: ['agents'],
        summary: 'A deploy phase started on the host',
        params: jobParams,
        body: z.object({
          instance,
          phase: z.enum(['unpack', 'start', 'health', 'switch', 'drain', 'cleanup']),
        }),
      },
    },
    async (req, reply) => {
      await g.hostJobs.held(req.body.instance, req.params.id);
      g.hostJobs.phase(req.params.id, req.body.phase);
      reply.status(204);
    },
  );

  r.post(
    '/api/agent/host-jobs/:id/finish',
    {
      config: { access: 'agent' },
      schema: {
        tags: ['agents'],
        summary: 'The driver call ended: its result, or the error',
        params: jobParams,
        body: z.union([
          z.object({ instance, ok: z.literal(true), result: z.unknown() }),
          z.object({ instance, ok: z.literal(false), error: z.string().max(64_000) }),
        ]),
      },
    },
    async (req, reply) => {
      const { instance: id, ...outcome } = req.body;
      await g.hostJobs.finish(id, req.params.id, outcome as Parameters<HostJobs['finish']>[2]);
      reply.status(204);
    },
  );

  r.post(
    '/api/agent/hosts/events',
    {
      config: { access: 'agent' },
      schema: {
        tags: ['agents'],
        summary: "An app on a host crashed, was restarted, or was given up on (the driver's supervisor)",
        body: z.object({
          instance,
          host: z.string(),
          app: z.string(),
          env: z.string(),
          event: z.object({
            type: z.enum(['crashed', 'restarted', 'gave-up']),
            sha: z.string().max(64),
            exitCode: z.number().int().nullable().optional(),
            signal: z.string().nullable().optional(),
            restartInMs: z.number().optional(),
            crashes: z.number().int().optional(),
          }),
        }),
      },
    },
    async (req, reply) => {
      const { instance: id, host, app: appName, env, event } = req.body;
      if ((await g.hostJobs.holderOf(host)) !== id)
        throw new NotFound(`this agent does not hold host ${host}`);
      const app = await g.apps.get(appName);
      const type = driverEventType(event.type);
      await g.events.append({ type, appId: app.id, subject: env, actor: 'driver', data: { ...event, host } });
      reply.status(204);
    },
  );
}
