import { z } from 'zod';
import { artifactSchema } from './resources.js';

/**
 * Artifact retention (docs/retention.md): what `gantry gc` and the hourly pass keep. Whatever an
 * environment runs, keeps warm or would roll back to, and whatever a deployment waits for, is always
 * kept; of the rest, an artifact goes when it is neither among its app's newest `keepPerApp` nor
 * younger than `maxAge`.
 *
 * @example
 * const p: RetentionPolicy = { keepPerApp: 10, maxAge: '14d', maxAgeMs: 1_209_600_000, scheduled: true };
 */
export const retentionPolicySchema = z.object({
  /** GANTRY_ARTIFACTS_KEEP: the newest artifacts of each app that stay whatever their age. */
  keepPerApp: z.number().int().min(0),
  /** GANTRY_ARTIFACTS_MAX_AGE, as given (`14d`, `12h`): anything younger stays. */
  maxAge: z.string(),
  maxAgeMs: z.number().int().min(0),
  /** GANTRY_ARTIFACTS_GC (default on): the policy runs at start and every hour. */
  scheduled: z.boolean(),
});
export type RetentionPolicy = z.infer<typeof retentionPolicySchema>;

/** What became of a collected artifact's bytes. */
export const retentionStorage = [
  /** The tar.gz was removed from the data dir, or the image's manifest from its registry. */
  'deleted',
  /** Another artifact that stays has the same digest: the bytes stay for it. */
  'shared',
  /** Already gone (a registry that no longer had the image, a file removed by hand). */
  'missing',
  /** The registry does not allow deletes: Gantry no longer deploys it; the registry keeps the image. */
  'left_in_registry',
] as const;

export const retentionItemSchema = z.object({
  artifact: artifactSchema,
  /** Why it stays (every reason that applies), or why it goes. */
  reasons: z.array(z.string()),
  /** Collected ones, after a real run: what became of the bytes. */
  storage: z.enum(retentionStorage).optional(),
});
export type RetentionItem = z.infer<typeof retentionItemSchema>;

/**
 * One pass of the policy. A dry run lists what would be collected; a run collects it. `failed` holds
 * those whose storage could not be deleted: they stay live and the next pass tries again.
 */
export const retentionReportSchema = z.object({
  dryRun: z.boolean(),
  policy: retentionPolicySchema,
  at: z.string(),
  collected: z.array(retentionItemSchema),
  kept: z.array(retentionItemSchema),
  failed: z.array(z.object({ artifact: artifactSchema, error: z.string() })),
  /** Bytes of tarballs removed and of image manifests' layers as recorded (the registry frees them at its own garbage collection). */
  freedBytes: z.number(),
});
export type RetentionReport = z.infer<typeof retentionReportSchema>;

/** The policy and this server's last pass, counted. */
export const retentionStatusSchema = z.object({
  policy: retentionPolicySchema,
  lastRun: z
    .object({
      at: z.string(),
      dryRun: z.boolean(),
      actor: z.string(),
      collected: z.number(),
      kept: z.number(),
      failed: z.number(),
      freedBytes: z.number(),
    })
    .nullable(),
});
export type RetentionStatus = z.infer<typeof retentionStatusSchema>;
