import { z } from 'zod';

/**
 * Feature toggles in Unleash's client-API shape, so the definitions we store are what SDKs read.
 *
 * @example
 * const s: ToggleStrategy = { name: 'flexibleRollout', parameters: { rollout: '25', stickiness: 'default', groupId: 'checkout' }, constraints: [] };
 */
export { type ConstraintOperator, constraintOperators } from './constraint-operators.js';

import { constraintOperators } from './constraint-operators.js';

export const toggleTypes = ['release', 'experiment', 'operational', 'kill-switch', 'permission'] as const;
export type ToggleType = (typeof toggleTypes)[number];

export const strategyNames = [
  'default',
  'flexibleRollout',
  'userWithId',
  'remoteAddress',
  'applicationHostname',
  'gradualRolloutUserId',
  'gradualRolloutSessionId',
  'gradualRolloutRandom',
] as const;

export const constraintSchema = z.strictObject({
  contextName: z.string().min(1),
  operator: z.enum(constraintOperators, {
    error: (iss) =>
      `unknown operator ${JSON.stringify(iss.input)}; expected one of ${constraintOperators.join(', ')}`,
  }),
  values: z.array(z.string()).optional(),
  value: z.string().optional(),
  caseInsensitive: z.boolean().optional(),
  inverted: z.boolean().optional(),
});
export type ToggleConstraint = z.infer<typeof constraintSchema>;

export const variantSchema = z.strictObject({
  name: z.string().min(1),
  weight: z.int().min(0).max(1000),
  weightType: z.enum(['variable', 'fix']).default('variable'),
  stickiness: z.string().default('default'),
  payload: z
    .strictObject({ type: z.enum(['string', 'json', 'csv', 'number']), value: z.string() })
    .optional(),
  overrides: z.array(z.strictObject({ contextName: z.string(), values: z.array(z.string()) })).optional(),
});
export type ToggleVariant = z.infer<typeof variantSchema>;

export const strategySchema = z.strictObject({
  name: z.enum(strategyNames, {
    error: (iss) =>
      `unknown strategy ${JSON.stringify(iss.input)}; expected one of ${strategyNames.join(', ')}`,
  }),
  parameters: z.record(z.string(), z.string()).default({}),
  constraints: z.array(constraintSchema).default([]),
  segments: z.array(z.int()).optional(),
  variants: z.array(variantSchema).optional(),
  disabled: z.boolean().optional(),
});
export type ToggleStrategy = z.infer<typeof strategySchema>;

export const dependencySchema = z.strictObject({
  feature: z.string().min(1),
  enabled: z.boolean().optional(),
  variants: z.array(z.string()).optional(),
});
export type ToggleDependency = z.infer<typeof dependencySchema>;

export const toggleNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
    'a toggle name: letters, digits, ".", "_" and "-", at most 100',
  );

/**
 * Strategies and variants as stored and answered: what their input schemas gave, or what an import of
 * Unleash's JSON held (kept as it came, so fields Gantry does not know may be there too).
 */
const storedStrategySchema = z.looseObject(strategySchema.shape);
const storedVariantSchema = z.looseObject(variantSchema.shape);

export const toggleEnvironmentSchema = z.object({
  env: z.string(),
  enabled: z.boolean(),
  strategies: z.array(storedStrategySchema),
  variants: z.array(storedVariantSchema),
  updatedAt: z.string(),
  enabledSince: z.string().nullable(),
});
export type ToggleEnvironment = Omit<z.infer<typeof toggleEnvironmentSchema>, 'strategies' | 'variants'> & {
  strategies: ToggleStrategy[];
  variants: ToggleVariant[];
};

export const toggleSchema = z.object({
  id: z.string(),
  app: z.string(),
  name: z.string(),
  type: z.enum(toggleTypes),
  description: z.string(),
  owner: z.string().nullable(),
  impressionData: z.boolean(),
  dependencies: z.array(z.looseObject(dependencySchema.shape)),
  createdBy: z.string(),
  createdAt: z.string(),
  archivedAt: z.string().nullable(),
  environments: z.array(toggleEnvironmentSchema),
});
export type Toggle = Omit<z.infer<typeof toggleSchema>, 'dependencies' | 'environments'> & {
  dependencies: ToggleDependency[];
  environments: ToggleEnvironment[];
};

export const segmentSchema = z.object({
  id: z.number(),
  app: z.string(),
  name: z.string(),
  description: z.string(),
  constraints: z.array(z.looseObject(constraintSchema.shape)),
});
export type Segment = Omit<z.infer<typeof segmentSchema>, 'constraints'> & {
  constraints: ToggleConstraint[];
};

/**
 * draft → scheduled (schedule) → draft (unschedule); draft or scheduled → applied (apply; the scheduler
 * applies only scheduled ones) → reverted (revert); scheduled → failed (the scheduler could not apply
 * it; nothing of it was applied); draft, scheduled or failed → cancelled (cancel). applied, reverted
 * and cancelled are final but for revert. Each move is one guarded transition: a second one of the
 * same release answers 409 with the release's current state.
 */
export const releaseStatuses = ['draft', 'scheduled', 'applied', 'reverted', 'failed', 'cancelled'] as const;
export type ReleaseStatus = (typeof releaseStatuses)[number];

/** What one release change does to one toggle in one environment (fields left out stay as they are). */
export const releaseChangeSchema = z.strictObject({
  enabled: z.boolean().optional(),
  rollout: z.int().min(0).max(100).optional(),
  strategies: z.array(strategySchema).optional(),
  variants: z.array(variantSchema).optional(),
});
export type ReleaseChangeSpec = z.infer<typeof releaseChangeSchema>;

export const releaseChangeRecordSchema = z.object({
  idx: z.number(),
  app: z.string(),
  toggle: z.string(),
  env: z.string(),
  change: z.looseObject({
    ...releaseChangeSchema.shape,
    strategies: z.array(storedStrategySchema).optional(),
    variants: z.array(storedVariantSchema).optional(),
  }),
  /** The toggle's state in the environment before the release was applied; null until then (or when it had none). */
  before: z
    .object({
      enabled: z.boolean(),
      strategies: z.array(storedStrategySchema),
      variants: z.array(storedVariantSchema),
    })
    .nullable(),
});
export type ReleaseChange = Omit<z.infer<typeof releaseChangeRecordSchema>, 'change' | 'before'> & {
  change: ReleaseChangeSpec;
  before: { enabled: boolean; strategies: ToggleStrategy[]; variants: ToggleVariant[] } | null;
};

/** A named bundle of toggle changes, applied together by a product owner, independent of deployments. */
export const releaseSchema = z.object({
  id: z.string(),
  name: z.string(),
  notes: z.string(),
  status: z.enum(releaseStatuses),
  scheduledAt: z.string().nullable(),
  appliedAt: z.string().nullable(),
  revertedAt: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  error: z.string().nullable(),
  changes: z.array(releaseChangeRecordSchema),
});
export type Release = Omit<z.infer<typeof releaseSchema>, 'changes'> & { changes: ReleaseChange[] };
