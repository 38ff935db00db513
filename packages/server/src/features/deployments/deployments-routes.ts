import { hostname } from 'node:os';
import {
  artifactSchema,
  deploymentSchema,
  deploymentStatuses,
  rollbackChoiceSchema,
} from '@gantry/contracts';
import type { Logger } from 'pino';
import { z } from 'zod';
import { checkEnvironmentName, checkTagName } from '../../git/ref-names.js';
import type { RepoMirror } from '../../git/repo-mirror.js';
import { actorOf, type TypedApp } from '../../http/route-kit.js';
import type { AppService } from '../apps/app-service.js';
import type { ArtifactService } from '../artifacts/artifact-service.js';
import type { SeenTagStore } from '../environments/environment-store.js';
import { deployTagName } from './deploy-tags.js';
import type { Deployer } from './deployer.js';
import { knownReleases } from './deployment-plan.js';
import type { DeploymentRecovery } from './deployment-recovery.js';
import type { DeploymentService } from './deployment-service.js';
import type { DeploymentStore } from './deployment-store.js';
import type { DriverRegistry } from './driver-registry.js';
import type { TagDeployer } from './tag-deployer.js';

const appEnv = z.object({ app: z.string(), env: z.string() });

/** A dry run's answer (200): what the request would do, or why it would be refused; nothing is recorded. */
const dryRunSchema = z.object({
  dryRun: z.literal(true),
  env: z.string(),
  sha: z.string(),
  refused: z.string().nullable().describe('why the request would be refused; null: it would run'),
  driver: z.string().nullable(),
  artifact: artifactSchema.nullable(),
  plan: z.object({ kind: z.enum(['noop', 'switch', 'start']), steps: z.array(z.string()) }).nullable(),
});

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface DeploymentsRoutesDeps {
  logger: Pick<Logger, 'warn'>;
  apps: Pick<AppService, 'get' | 'mirrorOf'>;
  artifacts: Pick<ArtifactService, 'findCurrent'>;
  envStore: Pick<SeenTagStore, 'markSeen'>;
  /** Whole, for the releases a plan keeps (knownReleases). */
  deploymentStore: DeploymentStore;
  deployments: Pick<
    DeploymentService,
    'checkRemediates' | 'refusal' | 'configAt' | 'request' | 'get' | 'rollback' | 'checkOverride'
  >;
  deployer: Pick<Deployer, 'specFor'>;
  drivers: Pick<DriverRegistry, 'for'>;
  tagDeployer: Pick<TagDeployer, 'patternFor'>;
  recovery: Pick<DeploymentRecovery, 'fromTags'>;
}

async function untag(
  g: Pick<DeploymentsRoutesDeps, 'logger'>,
  mirror: RepoMirror,
  tag: string,
): Promise<void> {
  await mirror
    .deleteTag(tag)
    .catch((error: unknown) =>
      g.logger.warn({ err: error, tag }, 'could not delete the deploy tag of a refused request'),
    );
}

export function deploymentsRoutes(r: TypedApp, g: DeploymentsRoutesDeps): void {
  r.post(
    '/api/apps/:app/deployments',
    {
      config: { access: 'deployments:write' },
      schema: {
        tags: ['deployments'],
        summary:
          'Deploy a ref (SHA, short SHA, tag, branch, HEAD~2) to an environment; with tag=true, Gantry first creates and pushes deploy/<env>/<UTC>-<sha>',
        params: z.object({ app: z.string() }),
        body: z
          .object({
            env: z.string(),
            ref: z.string(),
            tag: z.boolean().default(false),
            force: z.boolean().default(false),
            confirm: z.boolean().default(false),
            reason: z.string().max(2000).optional(),
            remediates: z
              .string()
              .optional()
              .describe('id of the failed deployment of this environment that this one fixes (metrics)'),
            actor: z.string().max(200).optional().describe('who asked, e.g. the CLI user'),
            dryRun: z.boolean().default(false),
            override: z
              .boolean()
              .default(false)
              .describe(
                'break-glass (server:admin only): deploy during a freeze window and without approvals; needs `reason`; recorded as deployment.break_glass',
              ),
          })
          // Strict: a misspelt `dryRun` or `tag` would otherwise deploy for real.
          .strict(),
        response: { 200: dryRunSchema, 201: deploymentSchema },
      },
    },
    async (req, reply) => {
      const app = await g.apps.get(req.params.app);
      // A name git or the folders could not take is a 400 here, not a rejected row or a GitError.
      checkEnvironmentName(req.body.env);
      // Break-glass is server:admin's, with a reason: refused here, before any tag is pushed.
      const override = req.body.override ? { reason: req.body.reason ?? '' } : null;
      if (override) g.deployments.checkOverride(req.principal, override);
      const mirror = g.apps.mirrorOf(app);
      await mirror.fetch();
      const sha = await mirror.resolve(req.body.ref);
      const actor = req.body.actor ? `${req.body.actor} (${actorOf(req)})` : actorOf(req);
      if (req.body.remediates) await g.deployments.checkRemediates(app, req.body.env, req.body.remediates);
      const request = {
        app,
        env: req.body.env,
        sha,
        trigger: req.body.tag ? ('cli' as const) : ('api' as const),
        actor,
        reason: req.body.reason ?? null,
        force: req.body.force,
        confirmed: req.body.confirm,
        remediates: req.body.remediates ?? null,
        principal: req.principal,
        override,
      };
      if (req.body.dryRun) {
        // The same gates as the real request (a dry run needs no confirmation): why it would be refused.
        const refused = await g.deployments.refusal({ ...request, confirmed: true });
        if (refused !== null && !(await g.deployments.configAt(app, sha))?.environments?.[req.body.env])
          return {
            dryRun: true as const,
            env: req.body.env,
            sha,
            refused,
            driver: null,
            artifact: null,
            plan: null,
          };
        const { spec, driver } = await g.deployer.specFor(app, req.body.env, sha);
        const artifact = await g.artifacts.findCurrent(app.id, sha);
        const releases = await knownReleases(g.deploymentStore, app.id, req.body.env, spec.standby);
        const plan = g.drivers.for(driver, spec).plan({
          env: spec,
          target: { sha, digest: artifact?.digest ?? '' },
          releases,
        });
        return {
          dryRun: true as const,
          env: req.body.env,
          sha,
          refused,
          driver,
          artifact: artifact ?? null,
          plan,
        };
      }
      let tag: string | null = null;
      // The gates run before the tag is pushed: a request they refuse is recorded (rejected) without one.
      if (req.body.tag && (await g.deployments.refusal(request)) === null) {
        const pattern = await g.tagDeployer.patternFor(app, sha);
        tag = await checkTagName(deployTagName(pattern, req.body.env, sha));
        await g.envStore.markSeen(app.id, tag, sha);
        const message =
          `Deploy ${sha.slice(0, 12)} to ${req.body.env}\n\nBy: ${actor}\nWhy: ${req.body.reason ?? '(no reason given)'}\n` +
          (req.body.remediates ? `Remediates: ${req.body.remediates}\n` : '');
        await mirror.createAndPushTag(tag, sha, message, { name: 'Gantry', email: `gantry@${hostname()}` });
      }
      const d = await g.deployments.request({ ...request, tag }).catch(async (error: unknown) => {
        if (tag) await untag(g, mirror, tag);
        throw error;
      });
      // Refused after all (something changed in between): the tag would claim a deployment that never ran.
      if (tag && d.status === 'rejected') await untag(g, mirror, tag);
      reply.status(201);
      return d;
    },
  );

  r.get(
    '/api/deployments',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['deployments'],
        summary: 'Deployments, newest first',
        querystring: z.object({
          app: z.string().optional(),
          env: z.string().optional(),
          status: z.enum(deploymentStatuses).optional(),
          limit: z.coerce.number().int().min(1).max(1000).optional(),
          before: z.string().optional(),
        }),
        response: { 200: z.array(deploymentSchema) },
      },
    },
    async (req) => {
      const { app, ...q } = req.query;
      const appId = app ? (await g.apps.get(app)).id : undefined;
      return g.deploymentStore.list({ ...q, appId });
    },
  );

  r.get(
    '/api/deployments/:id',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['deployments'],
        params: z.object({ id: z.string() }),
        response: { 200: deploymentSchema },
      },
    },
    async (req) => g.deployments.get(req.params.id),
  );

  r.post(
    '/api/apps/:app/environments/:env/rollback',
    {
      config: { access: 'deployments:write' },
      schema: {
        tags: ['deployments'],
        summary:
          'Deploy the newest release the environment ran healthy before the current one, skipping releases rolled back from, failed or held (or `to`); the answer says which and why (`rollback`)',
        params: appEnv,
        body: z
          .object({
            to: z.string().optional(),
            confirm: z.boolean().default(false),
            reason: z.string().max(2000).optional(),
            actor: z.string().max(200).optional(),
          })
          .strict(),
        response: { 201: deploymentSchema.extend({ rollback: rollbackChoiceSchema }) },
      },
    },
    async (req, reply) => {
      const app = await g.apps.get(req.params.app);
      checkEnvironmentName(req.params.env);
      const actor = req.body.actor ? `${req.body.actor} (${actorOf(req)})` : actorOf(req);
      reply.status(201);
      return g.deployments.rollback(app, req.params.env, actor, {
        to: req.body.to || undefined,
        confirmed: req.body.confirm,
        reason: req.body.reason,
        principal: req.principal,
      });
    },
  );

  r.post(
    '/api/apps/:app/recover',
    {
      config: { access: 'environments:write' },
      schema: {
        tags: ['deployments'],
        summary: 'Rebuild the deployment history from the deploy tags in git (when the database was lost)',
        params: z.object({ app: z.string() }),
        response: { 200: z.object({ recovered: z.array(deploymentSchema), skipped: z.number() }) },
      },
    },
    async (req) => g.recovery.fromTags(await g.apps.get(req.params.app), actorOf(req)),
  );
}
