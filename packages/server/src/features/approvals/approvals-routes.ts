import { approvalDecisionBodySchema, approvalStateSchema } from '@gantry/contracts';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { NotFound, Unauthenticated } from '../../errors.js';
import { authorize, mayRead, type TypedApp } from '../../http/route-kit.js';
import type { Permission } from '../access/roles.js';
import type { Requester } from '../deployments/deployment-gate.js';
import type { DeploymentStore } from '../deployments/deployment-store.js';
import type { ApprovalService } from './approval-service.js';

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface ApprovalsRoutesDeps {
  approvals: Pick<ApprovalService, 'approve' | 'reject' | 'state' | 'pending'>;
  deploymentStore: Pick<DeploymentStore, 'find'>;
}

const params = z.object({ id: z.string() });

function principalOf(req: FastifyRequest): Requester {
  if (!req.principal)
    throw new Unauthenticated('approving needs a principal: send `Authorization: Bearer <token>`');
  return req.principal;
}

/** The permission where the deployment lives (its app and environment). */
async function authorizeOn(
  g: ApprovalsRoutesDeps,
  req: FastifyRequest,
  id: string,
  permission: Permission,
): Promise<void> {
  const d = await g.deploymentStore.find(id);
  if (!d) throw new NotFound(`no deployment "${id}"; see \`gantry history <env>\``);
  authorize(req, permission, { app: d.app, env: d.env });
}

/**
 * Approvals of deployment requests to protected environments. Deciding needs `deployments:write`;
 * who may approve a given request is gantry.yaml's `from` list, checked by the service.
 */
export function approvalsRoutes(r: TypedApp, g: ApprovalsRoutesDeps): void {
  r.post(
    '/api/deployments/:id/approve',
    {
      config: { access: 'deployments:write', record: true },
      schema: {
        tags: ['deployments'],
        summary:
          "Approve a request waiting for approval (its artifact digest); only approvers named by the environment's `approvals.from` may, never the requester unless `self_approval`; 409 when it no longer waits (superseded, rejected, expired) or deploys another digest than `digest`",
        params,
        body: approvalDecisionBodySchema,
        response: { 200: approvalStateSchema },
      },
    },
    async (req) => {
      await authorizeOn(g, req, req.params.id, 'deployments:write');
      return g.approvals.approve(req.params.id, principalOf(req), req.body);
    },
  );

  r.post(
    '/api/deployments/:id/reject',
    {
      config: { access: 'deployments:write', record: true },
      schema: {
        tags: ['deployments'],
        summary: 'Reject a request waiting for approval, with a comment saying why; one rejection rejects it',
        params,
        body: approvalDecisionBodySchema,
        response: { 200: approvalStateSchema },
      },
    },
    async (req) => {
      await authorizeOn(g, req, req.params.id, 'deployments:write');
      return g.approvals.reject(req.params.id, principalOf(req), req.body);
    },
  );

  r.get(
    '/api/deployments/:id/approvals',
    {
      config: { access: 'apps:read', record: true },
      schema: {
        tags: ['deployments'],
        summary:
          'A request that waited for approval: the rules it was asked under, who asked, each decision and whether it counts now',
        params,
        response: { 200: approvalStateSchema },
      },
    },
    async (req) => {
      await authorizeOn(g, req, req.params.id, 'apps:read');
      return g.approvals.state(req.params.id);
    },
  );

  r.get(
    '/api/approvals',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['deployments'],
        summary: 'Requests waiting for approval, oldest first, with each decision so far',
        querystring: z.object({ app: z.string().optional(), env: z.string().optional() }),
        response: { 200: z.array(approvalStateSchema) },
      },
    },
    async (req) => (await g.approvals.pending(req.query)).filter((s) => mayRead(req, s.app)),
  );
}
