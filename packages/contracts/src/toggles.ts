import { z } from 'zod';

/**
 * Feature toggles in Unleash's client-API shape, so the definitions we store are what SDKs read.
 *
 * @example
 * const s: ToggleStrategy = { name: 'flexibleRollout', parameters: { rollout: '25', stickiness: 'default', groupId: 'checkout' }, constraints: [] };
 */
export const constraintOperators = [
  'IN',
  'NOT_IN',
  'STR_CONTAINS',
  'STR_STARTS_WITH',
  'STR_ENDS_WITH',
  'NUM_EQ',
  'NUM_GT',
  'NUM_GTE',
  'NUM_LT',
  'NUM_LTE',
  'DATE_AFTER',
  'DATE_BEFORE',
  'SEMVER_EQ',
  'SEMVER_GT',
  'SEMVER_LT',
  'REGEX',
  'IN_CIDR',
] as const;
export type ConstraintOperator = (typeof constraintOperators)[number];

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

export interface ToggleEnvironment {
  env: string;
  enabled: boolean;
  strategies: ToggleStrategy[];
  variants: ToggleVariant[];
  updatedAt: string;
  enabledSince: string | null;
}

export interface Toggle {
  id: string;
  app: string;
  name: string;
  type: ToggleType;
  description: string;
  owner: string | null;
  impressionData: boolean;
  dependencies: ToggleDependency[];
  createdBy: string;
  createdAt: string;
  archivedAt: string | null;
  environments: ToggleEnvironment[];
}

export interface Segment {
  id: number;
  app: string;
  name: string;
  description: string;
  constraints: ToggleConstraint[];
}

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

export interface ReleaseChange {
  idx: number;
  app: string;
  toggle: string;
  env: string;
  change: ReleaseChangeSpec;
  before: { enabled: boolean; strategies: ToggleStrategy[]; variants: ToggleVariant[] } | null;
}

/** A named bundle of toggle changes, applied together by a product owner, independent of deployments. */
export interface Release {
  id: string;
  name: string;
  notes: string;
  status: ReleaseStatus;
  scheduledAt: string | null;
  appliedAt: string | null;
  revertedAt: string | null;
  createdBy: string;
  createdAt: string;
  error: string | null;
  changes: ReleaseChange[];
}
