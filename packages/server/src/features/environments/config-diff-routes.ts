import type { GantryYaml } from '@gantry/contracts';
import { z } from 'zod';
import { InvalidInput } from '../../errors.js';
import { checkEnvironmentName } from '../../git/ref-names.js';
import type { TypedApp } from '../../http/route-kit.js';
import type { AppService } from '../apps/app-service.js';
import type { DeploymentService } from '../deployments/deployment-service.js';
import type { DeploymentStore } from '../deployments/deployment-store.js';
import { environmentOf } from './environment-specs.js';

const sideSchema = z.object({
  env: z.string(),
  sha: z
    .string()
    .nullable()
    .describe("the SHA whose gantry.yaml is read: what the environment runs, else the app's head"),
  running: z.boolean().describe('false: the environment runs nothing, so the head was read'),
  values: z
    .record(z.string(), z.string())
    .describe('the environment resolved from gantry.yaml, flattened to dotted keys'),
});

const configDiffSchema = z.object({
  app: z.string(),
  a: sideSchema,
  b: sideSchema,
  differences: z.array(z.object({ key: z.string(), a: z.string().nullable(), b: z.string().nullable() })),
});

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface ConfigDiffRoutesDeps {
  apps: Pick<AppService, 'get'>;
  deploymentStore: Pick<DeploymentStore, 'lastSucceeded'>;
  deployments: Pick<DeploymentService, 'configAt'>;
}

/** Nested values as `a.b.c` keys with string values. */
export function flatten(
  value: unknown,
  prefix = '',
  out: Record<string, string> = {},
): Record<string, string> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined && prefix) {
    out[prefix] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}

/** One environment as it runs: its own section, with the app-wide `run` it starts with. */
function resolved(config: GantryYaml | undefined, env: string): Record<string, string> | null {
  const section = environmentOf(config, env);
  if (!section) return null;
  return flatten({ ...section, run: config?.run });
}

export function configDiffRoutes(r: TypedApp, g: ConfigDiffRoutesDeps): void {
  r.get(
    '/api/apps/:app/environments/:env/config-diff',
    {
      config: { access: 'apps:read' },
      schema: {
        tags: ['environments'],
        summary:
          "Two environments' configuration from gantry.yaml at the SHAs they run, and the keys that differ",
        params: z.object({ app: z.string(), env: z.string() }),
        querystring: z.object({ with: z.string().describe('the other environment') }),
        response: { 200: configDiffSchema },
      },
    },
    async (req) => {
      const app = await g.apps.get(req.params.app);
      const side = async (env: string) => {
        checkEnvironmentName(env);
        const running = await g.deploymentStore.lastSucceeded(app.id, env);
        const sha = running?.sha ?? app.headSha;
        const values = sha ? resolved(await g.deployments.configAt(app, sha), env) : null;
        if (!values)
          throw new InvalidInput(
            `environment "${env}" is not declared in ${app.name}'s gantry.yaml${sha ? ` at ${sha.slice(0, 12)}` : ''}; compare environments the app declares`,
          );
        return { env, sha, running: Boolean(running), values };
      };
      const a = await side(req.params.env);
      const b = await side(req.query.with);
      const keys = [...new Set([...Object.keys(a.values), ...Object.keys(b.values)])].sort();
      const differences = keys
        .filter((k) => a.values[k] !== b.values[k])
        .map((key) => ({ key, a: a.values[key] ?? null, b: b.values[key] ?? null }));
      return { app: app.name, a, b, differences };
    },
  );
}
