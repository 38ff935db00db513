import { z } from 'zod';
import { boundedDurationSchema } from './duration.js';

/** A post-deploy check may wait an hour at most; a watch may last a day. */
const MAX_CHECK_MS = 3_600_000;
const MAX_WATCH_MS = 24 * 3_600_000;
/** A check's own default timeout (a watch's is its `for` plus a minute). */
export const DEFAULT_CHECK_TIMEOUT_MS = 120_000;

const percentSchema = z
  .union([z.number(), z.string()])
  .describe('a share such as 1% or 0.01')
  .transform((value, ctx) => {
    const text = String(value).trim();
    const n = text.endsWith('%') ? Number(text.slice(0, -1)) / 100 : Number(text);
    if (Number.isFinite(n) && n >= 0 && n <= 1 && text !== '') return n;
    ctx.addIssue({
      code: 'custom',
      input: value,
      message: `${JSON.stringify(value)} is not a share: use a percentage such as "1%" or a fraction between 0 and 1`,
    });
    return z.NEVER;
  });

const common = {
  name: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9][A-Za-z0-9 ._:/-]*$/, {
      error: (iss) =>
        `${JSON.stringify(iss.input)} is not a check name: use letters, digits, spaces and . _ : / -`,
    })
    .describe('a short label shown in gantry checks, e.g. smoke')
    .optional(),
  timeout: boundedDurationSchema(MAX_CHECK_MS, 'a check timeout').optional(),
  retries: z
    .int()
    .min(0)
    .max(10)
    .describe('how many times a failed check runs again before it counts as failed (default 1)')
    .default(1),
};

const httpSchema = z
  .strictObject({
    path: z
      .string()
      .startsWith('/', {
        error: (iss) => `expected a path starting with "/", got ${JSON.stringify(iss.input)}`,
      })
      .describe('the path asked of the environment, e.g. /api/orders'),
    expect_status: z.int().min(100).max(599).default(200),
    expect_body: z.string().describe('text the answer must contain').optional(),
  })
  .describe('an HTTP check such as { path: /healthz, expect_status: 200 }');

const watchSchema = z
  .strictObject({
    for: boundedDurationSchema(MAX_WATCH_MS, 'a watch').describe('how long to watch, e.g. 2m'),
    max_error_rate: percentSchema.describe('the most 5xx answers allowed, e.g. 1%').optional(),
    max_p95_ms: z.number().positive().describe('the slowest 95th-percentile latency allowed').optional(),
    require_traffic: z.boolean().describe('false lets a watch pass when no request arrived').default(true),
  })
  .describe("a watch of the environment's own traffic such as { for: 2m, max_error_rate: 1% }");

// One object with the three kinds optional (and exactly one required) rather than a union, so an
// error inside a check names its field (checks[0].timeout) instead of "no union member matched".
const checkSchema = z
  .strictObject({
    ...common,
    run: z
      .string()
      .min(1)
      .describe('a shell command run in the build sandbox; it gets the environment URL as GANTRY_ENV_URL')
      .optional(),
    http: httpSchema.optional(),
    watch: watchSchema.optional(),
  })
  .describe(
    'a check such as { name: smoke, run: npm run smoke }, { http: { path: / } } or { watch: { for: 2m } }',
  )
  .superRefine((check, ctx) => {
    const kinds = (['run', 'http', 'watch'] as const).filter((k) => check[k] !== undefined);
    if (kinds.length === 1) return;
    ctx.addIssue({
      code: 'custom',
      message:
        kinds.length === 0
          ? 'a check needs one of run (a command), http ({ path }) or watch ({ for }), e.g. { name: smoke, run: npm run smoke }'
          : `a check does one thing: it has ${kinds.join(' and ')}; split it into ${kinds.length} checks`,
    });
  });

/** One post-deploy check as gantry.yaml declares it, with its name filled in. */
export type CheckConfig = z.output<typeof checkSchema> & { name: string };
export type CheckKind = 'run' | 'http' | 'watch';

export function checkKind(check: z.output<typeof checkSchema>): CheckKind {
  return check.run !== undefined ? 'run' : check.http !== undefined ? 'http' : 'watch';
}

/** The default name of a check that has none: its kind and what it looks at. */
function defaultName(check: z.output<typeof checkSchema>, i: number): string {
  if (check.http) return `http ${check.http.path}`.slice(0, 100);
  if (check.watch) return 'watch';
  return `check ${i + 1}`;
}

/** The time a check may take before it is stopped (a watch's own length plus a minute). */
export function checkTimeoutMs(check: z.output<typeof checkSchema>): number {
  if (check.timeout !== undefined) return check.timeout;
  if (check.watch) return check.watch.for + 60_000;
  return DEFAULT_CHECK_TIMEOUT_MS;
}

export const checksSchema = z
  .array(checkSchema)
  .describe('checks run after each deployment, e.g. [{ name: smoke, run: npm run smoke }]')
  .transform((checks): CheckConfig[] => checks.map((c, i) => ({ ...c, name: c.name ?? defaultName(c, i) })))
  .superRefine((checks, ctx) => {
    const seen = new Map<string, number>();
    checks.forEach((check, i) => {
      const first = seen.get(check.name);
      if (first === undefined) seen.set(check.name, i);
      else
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: `duplicate check name "${check.name}" (also checks[${first}]); give each check its own name`,
        });
    });
  });

export const onCheckFailureSchema = z
  .enum(['rollback', 'keep'])
  .describe('rollback switches back to the previous release when a check fails; keep leaves it running');

export const revertModes = ['auto', 'propose', 'off'] as const;
export type RevertMode = (typeof revertModes)[number];
