import { z } from 'zod';
import { InvalidInput } from '../../errors.js';
import { checkEnvironmentName } from '../../git/ref-names.js';
import { actorOf, type TypedApp } from '../../http/route-kit.js';
import type { AppService } from '../apps/app-service.js';
import type { ArtifactService } from '../artifacts/artifact-service.js';
import { appEnvironmentNames } from '../environments/environment-status.js';
import type { EnvironmentStore } from '../environments/environment-store.js';
import type { DeploymentService } from './deployment-service.js';
import {
  commitLine,
  commitLineSchema,
  commitsBetween,
  type ReleaseFactsDeps,
  upstreamOf,
  warmStandbys,
} from './release-facts.js';
import { rollbackTarget } from './rollback-target.js';

const appEnv = z.object({ app: z.string(), env: z.string() });

/** Per app × environment, what the board adds to /api/status. */
const boardEntrySchema = z.object({
  app: z.string(),
  env: z.string(),
  promoteFrom: z.string().nullable(),
  upstreamSha: z.string().nullable().describe('the SHA the promote_from environment runs'),
  waiting: z
    .number()
    .nullable()
    .describe(
      'commits the promote_from environment runs that this one does not; null: unknown or no upstream',
    ),
  standby: z
    .object({ sha: z.string(), digest: z.string(), commit: commitLineSchema.nullable() })
    .nullable()
    .describe('the warm previous release a rollback switches to at once'),
});

const promotionSchema = z.object({
  app: z.string(),
  from: z.string().describe('the promote_from environment'),
  to: z.string(),
  sha: z.string().describe('what the promote_from environment runs: the SHA a promotion deploys'),
  currentSha: z.string().nullable().describe('what the environment runs now'),
  artifact: z
    .object({ id: z.string(), digest: z.string(), kind: z.string(), reference: z.string().nullable() })
    .nullable(),
  commits: z
    .array(commitLineSchema)
    .nullable()
    .describe('what goes out, newest first; null: git cannot tell'),
  refused: z.string().nullable().describe('why a promotion would be refused now; null: it would run'),
  protected: z.boolean(),
});

const rollbackChoicesSchema = z.object({
  app: z.string(),
  env: z.string(),
  currentSha: z.string().nullable(),
  suggested: z
    .object({ sha: z.string().nullable(), why: z.string() })
    .describe('what `gantry rollback` without --to picks'),
  choices: z.array(
    z.object({
      sha: z.string(),
      deploymentId: z.string().describe('the newest succeeded deployment of this release'),
      deployedAt: z.string(),
      digest: z.string().nullable(),
      artifact: z.boolean().describe('its artifact is still kept (a rollback to it can run)'),
      instant: z.boolean().describe('a warm standby: the rollback switches traffic without a start'),
      commit: commitLineSchema.nullable(),
      note: z.string().nullable().describe('why `gantry rollback` would skip it, if it would'),
    }),
  ),
});

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface PromotionRoutesDeps extends ReleaseFactsDeps {
  apps: Pick<AppService, 'get' | 'list' | 'mirrorOf'>;
  artifacts: Pick<ArtifactService, 'findCurrent'>;
  envStore: Pick<EnvironmentStore, 'list' | 'find'>;
  deployments: Pick<DeploymentService, 'configAt' | 'refusal'>;
}

export function promotionRoutes(r: TypedApp, g: PromotionRoutesDeps): void {
  r.get(
    '/api/board',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['environments'],
        summary:
          'Every app × environment: commits the promote_from environment runs that it does not, and its warm standby release',
        response: { 200: z.array(boardEntrySchema) },
      },
    },
    async () => {
      const out: z.infer<typeof boardEntrySchema>[] = [];
      for (const app of await g.apps.list()) {
        const names = await appEnvironmentNames({ envs: g.envStore, service: g.deployments }, app);
        const current = new Map(
          await Promise.all(
            names.map(async (n) => [n, await g.deploymentStore.lastSucceeded(app.id, n)] as const),
          ),
        );
        for (const env of names) {
          const promoteFrom = await upstreamOf(g, app, env);
          const mine = current.get(env);
          const upstream = promoteFrom ? current.get(promoteFrom) : undefined;
          const waiting = upstream ? await commitsBetween(g, app, mine?.sha ?? null, upstream.sha) : null;
          const [standby] = await warmStandbys(g, app, env, mine);
          out.push({
            app: app.name,
            env,
            promoteFrom,
            upstreamSha: upstream?.sha ?? null,
            waiting: waiting ? waiting.length : null,
            standby: standby ? { ...standby, commit: await commitLine(g, app, standby.sha) } : null,
          });
        }
      }
      return out;
    },
  );

  r.get(
    '/api/apps/:app/environments/:env/promotion',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['deployments'],
        summary:
          'What promoting the environment would deploy: the SHA its promote_from environment runs, the artifact, and exactly the commits that go out',
        params: appEnv,
        response: { 200: promotionSchema },
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      const env = req.params.env;
      checkEnvironmentName(env);
      const from = await upstreamOf(g, app, env);
      if (!from)
        throw new InvalidInput(
          `"${env}" has no promote_from in ${app.name}'s gantry.yaml, so there is nothing to promote from; deploy a ref with \`gantry deploy ${env} <ref>\``,
        );
      const upstream = await g.deploymentStore.lastSucceeded(app.id, from);
      if (!upstream)
        throw new InvalidInput(
          `"${from}" runs nothing yet, so there is nothing to promote to "${env}"; deploy to ${from} first`,
        );
      const current = await g.deploymentStore.lastSucceeded(app.id, env);
      const artifact = await g.artifacts.findCurrent(app.id, upstream.sha);
      const config = app.headSha ? await g.deployments.configAt(app, app.headSha) : undefined;
      const refused =
        current?.sha === upstream.sha
          ? `"${env}" already runs ${upstream.sha.slice(0, 12)}, what "${from}" runs`
          : await g.deployments.refusal({
              app,
              env,
              sha: upstream.sha,
              trigger: 'api',
              actor: actorOf(req),
              confirmed: true,
            });
      return {
        app: app.name,
        from,
        to: env,
        sha: upstream.sha,
        currentSha: current?.sha ?? null,
        artifact: artifact
          ? { id: artifact.id, digest: artifact.digest, kind: artifact.kind, reference: artifact.reference }
          : null,
        commits: await commitsBetween(g, app, current?.sha ?? null, upstream.sha),
        refused,
        protected: config?.environments?.[env]?.protected ?? false,
      };
    },
  );

  r.get(
    '/api/apps/:app/environments/:env/rollback-choices',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['deployments'],
        summary:
          'The earlier releases the environment can roll back to, newest first: artifact kept, warm standby (instant), and what `gantry rollback` would pick',
        params: appEnv,
        response: { 200: rollbackChoicesSchema },
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      const env = req.params.env;
      checkEnvironmentName(env);
      const current = await g.deploymentStore.lastSucceeded(app.id, env);
      const history = await g.deploymentStore.list({ appId: app.id, env, limit: 1000 });
      const hold = (await g.envStore.find(app.id, env))?.hold;
      const pick = current ? rollbackTarget(history, current.sha, env, { heldSha: hold?.sha }) : null;
      const warm = new Set((await warmStandbys(g, app, env, current)).map((w) => w.sha));
      const seen = new Set<string>(current ? [current.sha] : []);
      const choices: z.infer<typeof rollbackChoicesSchema>['choices'] = [];
      const newestFirst = history
        .filter((d) => d.status === 'succeeded')
        .sort((a, b) => (b.finishedAt ?? b.requestedAt).localeCompare(a.finishedAt ?? a.requestedAt));
      for (const d of newestFirst) {
        if (seen.has(d.sha) || choices.length >= 20) continue;
        seen.add(d.sha);
        const artifact = await g.artifacts.findCurrent(app.id, d.sha);
        choices.push({
          sha: d.sha,
          deploymentId: d.id,
          deployedAt: d.finishedAt ?? d.requestedAt,
          digest: artifact?.digest ?? d.digest,
          artifact: Boolean(artifact && !artifact.prunedAt),
          instant: warm.has(d.sha),
          commit: await commitLine(g, app, d.sha),
          note:
            pick?.skipped.find((s) => s.sha === d.sha)?.why ??
            (hold?.sha === d.sha ? 'is held after a rollback' : null),
        });
      }
      return {
        app: app.name,
        env,
        currentSha: current?.sha ?? null,
        suggested: pick
          ? { sha: pick.to, why: pick.why }
          : { sha: null, why: `"${env}" has no successful deployment yet` },
        choices,
      };
    },
  );
}
