import { z } from 'zod';
import { boundedDurationSchema } from './duration.js';
import { deploymentStatuses } from './resources.js';

/**
 * Approvals (`environments.<env>.approvals`): a deployment request to the environment waits as
 * `awaiting_approval` until `required` distinct approvers named by `from` approved its artifact
 * digest. An approver is a person's login (`alice` or `user:alice`), a group of people
 * (`group:release-leads`) or a service token (`token:ci-bot`).
 *
 * @example
 * parseApprover('group:release-leads'); // { kind: 'group', name: 'release-leads' }
 * parseApprover('alice'); // { kind: 'user', name: 'alice' }
 */
export const approverKinds = ['user', 'group', 'token'] as const;
export type ApproverKind = (typeof approverKinds)[number];

const APPROVER = /^(?:([a-z]+):)?([A-Za-z0-9][A-Za-z0-9._@+-]{0,199})$/;

/** Why `ref` cannot name an approver, or null. */
export function approverProblem(ref: string): string | null {
  const m = APPROVER.exec(ref);
  const eg = 'e.g. alice, user:alice, group:release-leads or token:ci-bot';
  if (!m) return `${JSON.stringify(ref)} does not name an approver: ${eg}`;
  if (m[1] !== undefined && !(approverKinds as readonly string[]).includes(m[1]))
    return `${JSON.stringify(ref)}: "${m[1]}:" is not a kind of approver; use user:, group: or token: (${eg})`;
  return null;
}

export function parseApprover(ref: string): { kind: ApproverKind; name: string } {
  const m = APPROVER.exec(ref);
  if (!m) throw new RangeError(approverProblem(ref) ?? ref);
  return { kind: (m[1] as ApproverKind | undefined) ?? 'user', name: m[2]! };
}

/** An approval counts this long at most (a year); the default is no expiry. */
const MAX_EXPIRY_MS = 366 * 24 * 3_600_000;

export const approvalsConfigSchema = z
  .strictObject({
    required: z.int().min(1).max(20).describe('how many distinct approvers must approve, e.g. 2').default(1),
    from: z
      .array(
        z
          .string()
          .describe('a login, user:<login>, group:<group> or token:<name>')
          .superRefine((ref, ctx) => {
            const problem = approverProblem(ref);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          }),
      )
      .min(1, { error: 'name at least one approver, e.g. from: [alice, "group:release-leads"]' })
      .max(200)
      .describe('who may approve, e.g. [alice, "group:release-leads", "token:ci-bot"]'),
    self_approval: z
      .boolean()
      .describe('true lets whoever asked for the deployment approve it too')
      .default(false),
    expires: boundedDurationSchema(MAX_EXPIRY_MS, 'an approval expiry')
      .describe('an approval older than this no longer counts, e.g. 24h (default: never)')
      .optional(),
  })
  .superRefine((a, ctx) => {
    if (a.from.some((ref) => ref.startsWith('group:') || approverProblem(ref))) return;
    const people = new Set(
      a.from.map((ref) => {
        const { kind, name } = parseApprover(ref);
        return `${kind}:${name}`;
      }),
    );
    if (a.required > people.size)
      ctx.addIssue({
        code: 'custom',
        path: ['required'],
        message: `required is ${a.required}, but from names only ${people.size} approver${people.size === 1 ? '' : 's'} and no group, so no deployment could ever be approved; lower required or add approvers`,
      });
  })
  .describe(
    'deployments wait for approval, e.g. { required: 2, from: [alice, "group:release-leads"], expires: 24h }',
  );

export type ApprovalsConfig = z.output<typeof approvalsConfigSchema>;

/** The override an admin gives on a deploy request: skips freeze windows and approvals; recorded. */
export const deploymentOverrideSchema = z
  .strictObject({
    reason: z
      .string()
      .trim()
      .min(1, {
        error: 'break-glass needs a reason, e.g. { override: { reason: "hotfix for incident 42" } }',
      })
      .max(2000),
  })
  .describe(
    'break-glass (admins only): deploy during a freeze and without approvals; needs a reason and is recorded',
  );
export type DeploymentOverride = z.infer<typeof deploymentOverrideSchema>;

export const approvalDecisionBodySchema = z.strictObject({
  comment: z.string().max(2000).optional().describe('why; required to reject'),
  digest: z
    .string()
    .max(200)
    .optional()
    .describe('the artifact digest you reviewed; refused (409) when the request deploys another'),
});
export type ApprovalDecisionBody = z.infer<typeof approvalDecisionBodySchema>;

export const approvalVerdicts = ['approved', 'rejected'] as const;

/** One approver's decision on a request, and whether it counts now. */
export const approvalSchema = z.object({
  id: z.string(),
  deploymentId: z.string(),
  /** `user:<login>` or `token:<name>`. */
  approver: z.string(),
  verdict: z.enum(approvalVerdicts),
  /** The artifact digest approved: an approval is for that digest only. */
  digest: z.string(),
  comment: z.string().nullable(),
  createdAt: z.string(),
  counts: z.boolean(),
  /** Why it does not count (expired, another digest, given by the requester), or null. */
  why: z.string().nullable(),
});
export type Approval = z.infer<typeof approvalSchema>;

/** A request that waited (or waits) for approval: the rules it was asked under and who decided. */
export const approvalStateSchema = z.object({
  deploymentId: z.string(),
  app: z.string(),
  env: z.string(),
  sha: z.string(),
  digest: z.string(),
  status: z.enum(deploymentStatuses),
  /** Who asked: `user:<login>`, `token:<name>`, or `git:<email>` for a pushed tag. */
  requester: z.string(),
  required: z.number(),
  /** Distinct approvers whose approval counts now. */
  approved: z.number(),
  from: z.array(z.string()),
  selfApproval: z.boolean(),
  expiresMs: z.number().nullable(),
  /** The request that replaced this one while it waited, or null. */
  supersededBy: z.string().nullable(),
  approvals: z.array(approvalSchema),
});
export type ApprovalState = z.infer<typeof approvalStateSchema>;
