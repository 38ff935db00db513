import { z } from 'zod';
import { approvalsConfigSchema } from './approvals.js';
import { checksSchema, onCheckFailureSchema, revertModes } from './check-config.js';
import { closestWord } from './config-issues.js';
import { boundedDurationSchema } from './duration.js';
import { freezeWindowsSchema } from './freeze-windows.js';
import { checkImageRules, imageSchema, limitsSchema } from './image-config.js';
import { relativePathSchema } from './relative-path.js';
import { checkSecretDeclarations, secretNamesSchema } from './secrets.js';

/** Names of apps and environments: lowercase letters, digits and dashes. */
export const namePattern = /^[a-z0-9][a-z0-9-]*$/;

export const defaultCacheKey: readonly string[] = [
  'package-lock.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'npm-shrinkwrap.json',
];

const nameRule = 'use lowercase letters, digits and dashes, starting with a letter or digit';

/** A build and its steps may run a day at most (it is stopped at twice build.timeout). */
const MAX_BUILD_MS = 24 * 3_600_000;
/** A health check may wait an hour at most. */
const MAX_CHECK_MS = 3_600_000;

const appNameSchema = z
  .string()
  .describe('the app name')
  .regex(namePattern, {
    error: (iss) => `${JSON.stringify(iss.input)} is not a valid app name: ${nameRule}`,
  });

// A name of digits only would become an integer-like object key, which JavaScript moves to the
// front, losing the promotion order the file declares.
const environmentNameSchema = z
  .string()
  .max(63, {
    abort: true,
    error: (iss) => `${JSON.stringify(iss.input)} is not a valid environment name: at most 63 characters`,
  })
  .regex(namePattern, {
    abort: true,
    error: (iss) => `${JSON.stringify(iss.input)} is not a valid environment name: ${nameRule}`,
  })
  .regex(/[a-z]/, {
    error: (iss) =>
      `${JSON.stringify(iss.input)} is not a valid environment name: include at least one letter`,
  });

const commandSchema = (description: string) => z.string().min(1).describe(description);

const stepSchema = z
  .strictObject({
    name: z.string().min(1).describe('a short label for the build log, e.g. test'),
    run: commandSchema('the shell command to run'),
    timeout: boundedDurationSchema(MAX_BUILD_MS, 'a step timeout').optional(),
  })
  .describe('a step such as { name: test, run: npm test }');

/** A build agent's label (`gantry agent --labels linux,big`, gantry.yaml `build.runs_on`). */
export const AGENT_LABEL = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const agentLabelSchema = z.string().regex(AGENT_LABEL, {
  error: (iss) =>
    `${JSON.stringify(iss.input)} is not a label: lowercase letters, digits, '.', '_' and '-', e.g. linux`,
});

export const buildSchema = z
  .strictObject({
    steps: z
      .array(stepSchema)
      .min(1)
      .describe('the build and test steps, e.g. [{ name: test, run: npm test }]')
      .superRefine((steps, ctx) => {
        const seen = new Map<string, number>();
        steps.forEach((step, i) => {
          const first = seen.get(step.name);
          if (first === undefined) seen.set(step.name, i);
          else {
            ctx.addIssue({
              code: 'custom',
              path: [i, 'name'],
              message: `duplicate step name "${step.name}" (also steps[${first}]); give each step its own name`,
            });
          }
        });
      }),
    artifact: z
      .strictObject({ path: relativePathSchema('the folder to pack into the artifact') })
      .describe('what the build produces, e.g. { path: dist }')
      .optional(),
    image: imageSchema.optional(),
    cache: z.array(relativePathSchema('a folder kept between builds')).default(() => []),
    cache_key: z
      .array(relativePathSchema('a lock file whose contents key the cache'))
      .default(() => [...defaultCacheKey]),
    timeout: boundedDurationSchema(MAX_BUILD_MS, 'a build timeout').default(600_000),
    mode: z.enum(['latest', 'every']).default('latest'),
    env: z
      .record(
        z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
            abort: true,
            error: (iss) => `${JSON.stringify(iss.input)} is not an environment variable name, e.g. NODE_ENV`,
          })
          .refine((name) => !/^(GANTRY_.*|HOME|CI)$/.test(name), {
            error: (iss) => `${iss.input} is set by Gantry for every step; choose another name`,
          }),
        z.string().describe('a string (quote numbers and booleans)'),
      )
      .describe(
        'variables the steps get besides PATH, LANG, TZ, HOME, CI and GANTRY_*, e.g. { NODE_ENV: production }',
      )
      .default(() => ({})),
    network: z.boolean().describe('false runs the steps without network access').default(true),
    secrets: secretNamesSchema
      .describe('app-wide secrets the steps get as variables, e.g. [NPM_TOKEN]')
      .optional(),
    runs_on: z
      .array(agentLabelSchema)
      .min(1, { error: 'list at least one label, e.g. [linux], or leave runs_on out' })
      .describe(
        'labels a build agent must have to run this build (`gantry agent --labels`), e.g. [linux, big]',
      )
      .optional(),
  })
  .describe(
    'how to build the app; add e.g. build: { steps: [{ name: test, run: npm test }], artifact: { path: dist } }',
  );

export const runSchema = z
  .strictObject({
    command: commandSchema('the shell command that starts the app, e.g. node server.js').optional(),
    port_env: z
      .string()
      .describe('the environment variable that tells the app its port')
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
        error: (iss) => `${JSON.stringify(iss.input)} is not an environment variable name, e.g. PORT`,
      })
      .default('PORT'),
    health: z
      .strictObject({
        path: z
          .string()
          .describe('the HTTP path that answers 2xx when the app is healthy')
          .startsWith('/', {
            error: (iss) => `expected a path starting with "/", got ${JSON.stringify(iss.input)}`,
          })
          .default('/healthz'),
        timeout: boundedDurationSchema(MAX_CHECK_MS, 'a health timeout').default(30_000),
      })
      .describe('the health check, e.g. { path: /healthz, timeout: 30s }')
      .prefault({}),
    limits: limitsSchema.optional(),
  })
  .describe('how to start the app, e.g. { command: node server.js }');

const configValueSchema = z
  .union([z.string(), z.number(), z.boolean()])
  .describe('a string, number or boolean')
  .transform(String);

export const environmentSchema = z
  .strictObject({
    driver: z.string().min(1).describe('the driver name, e.g. process or command').default('process'),
    host: agentLabelSchema
      .describe('the agent the environment lives on (`gantry agent --labels web-1`), e.g. web-1')
      .optional(),
    hosts: z
      .array(agentLabelSchema)
      .min(1, { error: 'list at least one host, e.g. [web-1], or leave hosts out' })
      .describe(
        'the agents the environment lives on (`gantry agent --labels web-1`), rolled one at a time, e.g. [web-1, web-2]',
      )
      .optional(),
    port: z.int().min(1).max(65535).describe('the port the environment is served on').optional(),
    allow_privileged_port: z
      .boolean()
      .describe('true allows a port below 1024 (the server must be allowed to bind it)')
      .optional(),
    config: z
      .record(z.string(), configValueSchema)
      .describe('settings passed to the app, e.g. { LOG_LEVEL: info }')
      .default(() => ({})),
    auto_deploy: z.boolean().default(false),
    promote_from: z.string().describe('the environment an artifact must reach first').optional(),
    protected: z.boolean().default(false),
    queue: z.enum(['latest', 'fifo']).optional(),
    standby: z.int().min(0).default(1),
    checks: checksSchema.default(() => []),
    on_check_failure: onCheckFailureSchema
      .describe('what a failed check does: rollback (default when there is a previous release) or keep')
      .optional(),
    deploy: commandSchema('the command driver script that deploys').optional(),
    health: commandSchema('the command driver script that checks health').optional(),
    stop: commandSchema('the command driver script that stops').optional(),
    secrets: secretNamesSchema
      .describe("secrets the environment's release gets as variables, e.g. [DATABASE_URL]")
      .optional(),
    approvals: approvalsConfigSchema.optional(),
    freeze: freezeWindowsSchema.optional(),
    protect_rollbacks: z
      .boolean()
      .describe('true makes rollbacks wait for approvals and freeze windows too (default false)')
      .optional(),
  })
  .describe('an environment, e.g. { auto_deploy: true }');

export type GantryEnvironment = z.output<typeof environmentSchema>;

function checkEnvironments(envs: Record<string, GantryEnvironment>, ctx: z.RefinementCtx): void {
  const names = Object.keys(envs);
  for (const [name, env] of Object.entries(envs)) {
    if (env.protected && env.auto_deploy) {
      ctx.addIssue({
        code: 'custom',
        path: [name, 'auto_deploy'],
        message:
          'a protected environment cannot deploy automatically: remove auto_deploy, or remove protected',
      });
    }
    if (env.port !== undefined && env.port < 1024 && !env.allow_privileged_port) {
      ctx.addIssue({
        code: 'custom',
        path: [name, 'port'],
        message: `port ${env.port} is below 1024, which only root (or CAP_NET_BIND_SERVICE) may bind; use a port from 1024 up behind a reverse proxy, or set allow_privileged_port: true if this server may bind it`,
      });
    }
    if (env.host !== undefined && env.hosts !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [name, 'host'],
        message: 'give either host (one agent) or hosts (a list), not both',
      });
    }
    if ((env.host ?? env.hosts) && env.driver !== 'process' && env.driver !== 'container') {
      ctx.addIssue({
        code: 'custom',
        path: [name, env.host === undefined ? 'hosts' : 'host'],
        message: `hosts runs the process or container driver on agents; the ${env.driver} driver runs on the server, so remove hosts or use driver: process`,
      });
    }
    if (env.hosts && new Set(env.hosts).size !== env.hosts.length) {
      ctx.addIssue({
        code: 'custom',
        path: [name, 'hosts'],
        message: 'a host is listed twice; list each agent label once',
      });
    }
    if (env.driver === 'command' && env.deploy === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: 'the command driver needs a deploy command; add e.g. deploy: ./scripts/deploy.sh',
      });
    }
    const from = env.promote_from;
    if (from === name) {
      ctx.addIssue({
        code: 'custom',
        path: [name, 'promote_from'],
        message: 'an environment cannot promote from itself',
      });
    } else if (from !== undefined && !Object.hasOwn(envs, from)) {
      const others = names.filter((n) => n !== name);
      const guess = closestWord(from, others);
      const expected = guess
        ? `did you mean "${guess}"?`
        : `expected another environment declared in this file${others.length ? ` (${others.join(', ')})` : ''}`;
      ctx.addIssue({
        code: 'custom',
        path: [name, 'promote_from'],
        message: `unknown environment "${from}"; ${expected}`,
      });
    }
  }
  for (const cycle of promotionCycles(envs)) {
    const first = names.find((n) => cycle.includes(n))!;
    const order = [...cycle, cycle[0]].reverse().join(' → ');
    ctx.addIssue({
      code: 'custom',
      path: [first, 'promote_from'],
      message: `promote_from forms a cycle (${order}); the first environment of a promotion path must not have promote_from`,
    });
  }
}

/** Each cycle lists its members following promote_from, so reversed it reads in promotion order. */
function promotionCycles(envs: Record<string, GantryEnvironment>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  for (const start of Object.keys(envs)) {
    const chain: string[] = [];
    let at: string | undefined = start;
    while (at !== undefined && Object.hasOwn(envs, at) && !done.has(at) && !chain.includes(at)) {
      chain.push(at);
      const from: string | undefined = envs[at]?.promote_from;
      at = from === at ? undefined : from;
    }
    if (at !== undefined && chain.includes(at)) cycles.push(chain.slice(chain.indexOf(at)));
    for (const name of chain) done.add(name);
  }
  return cycles;
}

export const environmentsSchema = z
  .record(environmentNameSchema, environmentSchema)
  .describe('the environments in promotion order, e.g. { qa: { auto_deploy: true } }')
  .superRefine(checkEnvironments);

/**
 * Why a deploy tag pattern cannot name git tags, or null: the rules of `git check-ref-format`
 * applied to `refs/tags/<pattern>` with {env} and * filled in, plus a plain charset, so no tag
 * name can carry a space, `$(` or a control character into a shell or a log.
 */
export function tagPatternProblem(pattern: string): string | null {
  if (pattern.split('{env}').length !== 2) return 'must contain {env} exactly once, e.g. "deploy/{env}/*"';
  if (pattern.split('*').length !== 2)
    return 'must contain * exactly once (gantry deploy puts the time and SHA there), e.g. "deploy/{env}/*"';
  const bad = /[^A-Za-z0-9._/*{}-]/.exec(pattern.replace('{env}', ''))?.[0];
  if (bad !== undefined)
    return `contains ${JSON.stringify(bad)}: use letters, digits, ".", "_", "-" and "/" besides {env} and *`;
  if (/[{}]/.test(pattern.replace('{env}', ''))) return 'may contain braces only as {env}';
  const name = pattern.replace('{env}', 'env').replace('*', 'x');
  if (name.includes('..')) return 'is not a valid git tag name: it contains ".."';
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//'))
    return 'is not a valid git tag name: it starts or ends with "/" or has an empty part ("//")';
  if (name.endsWith('.')) return 'is not a valid git tag name: it ends with "."';
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return `is not a valid git tag name: the part "${part}" starts with "."`;
    if (part.endsWith('.lock')) return `is not a valid git tag name: the part "${part}" ends with ".lock"`;
  }
  return null;
}

export const tagsSchema = z
  .strictObject({
    pattern: z
      .string()
      .describe('the deploy tag pattern')
      .includes('{env}', {
        abort: true,
        error: (iss) =>
          `expected a pattern containing {env}, e.g. "deploy/{env}/*", got ${JSON.stringify(iss.input)}`,
      })
      .superRefine((pattern, ctx) => {
        const why = tagPatternProblem(pattern);
        if (why)
          ctx.addIssue({ code: 'custom', input: pattern, message: `${JSON.stringify(pattern)} ${why}` });
      })
      .default('deploy/{env}/*'),
  })
  .describe('deploy tag settings, e.g. { pattern: "deploy/{env}/*" }');

export const revertConfigSchema = z
  .strictObject({
    on_check_failure: z
      .enum(revertModes)
      .describe(
        "auto reverts the commit that failed the auto-deployed environment's checks; propose pushes the revert to a branch; off does neither",
      )
      .default('propose'),
  })
  .describe(
    'what to do with a commit that fails the checks of the auto-deployed environment, e.g. { on_check_failure: auto }',
  );

/**
 * The schema of `gantry.yaml`. Parsing applies defaults and turns durations into milliseconds.
 * Use {@link parseGantryYaml} for YAML text: it adds line and column to every error.
 *
 * @example
 * const config = gantryYamlSchema.parse({ build: { steps: [{ name: 'test', run: 'npm test' }], artifact: { path: 'dist' } } });
 * config.build.timeout; // 600_000
 */
export const gantryYamlSchema = z
  .strictObject({
    app: appNameSchema.optional(),
    build: buildSchema,
    run: runSchema.optional(),
    environments: environmentsSchema.default(() => ({})),
    tags: tagsSchema.prefault({}),
    revert: revertConfigSchema.prefault({}),
  })
  .superRefine(checkImageRules)
  .superRefine(checkSecretDeclarations)
  .describe('the settings of gantry.yaml, e.g. build: { steps: …, artifact: { path: dist } }');

/** gantry.yaml as written (durations as strings or seconds, defaults not applied). */
export type GantryYamlInput = z.input<typeof gantryYamlSchema>;
/** gantry.yaml after validation: defaults applied, durations in milliseconds. */
export type GantryYaml = z.output<typeof gantryYamlSchema>;
export type GantryBuildStep = GantryYaml['build']['steps'][number];

/**
 * What the build produces: an OCI image (`build.image`), or the `artifact.path` folder as a tar.gz.
 *
 * @example
 * artifactKind(config); // 'image' | 'tarball'
 */
export function artifactKind(config: Pick<GantryYaml, 'build'>): 'image' | 'tarball' {
  return config.build.image ? 'image' : 'tarball';
}
