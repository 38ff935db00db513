import { z } from 'zod';

/**
 * The audit log (`gantry audit`): every change made through the API — who, which principal and
 * role, from where, what, before/after, when — in an append-only, hash-chained log that
 * `gantry audit verify` checks end to end.
 *
 * @example
 * auditTimeProblem('7d'); // null
 * resolveAuditTime('7d', Date.parse('2026-01-08T00:00:00Z')); // '2026-01-01T00:00:00.000Z'
 */
const RELATIVE = /^(\d{1,6})(m|h|d|w)$/;
const RELATIVE_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
/** A date (2026-01-31) or a date and time with a zone (2026-01-31T12:00:00Z, …+02:00). */
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/** Engines roll 2026-02-30 over into March; a search from a day that does not exist is a mistake. */
function realDate(value: string): boolean {
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  return m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Why `value` is not a time the audit log can be searched from, or null when it is. */
export function auditTimeProblem(value: string): string | null {
  if (RELATIVE.test(value)) return null;
  if (ISO.test(value) && realDate(value) && !Number.isNaN(Date.parse(value))) return null;
  return `${JSON.stringify(value.slice(0, 60))} is not a time: give an age such as 30m, 12h, 7d or 2w, or an ISO 8601 date or time with its zone (2026-01-31, 2026-01-31T12:00:00Z)`;
}

/** An age (`7d`: seven days before `now`) or an ISO 8601 time, as ISO 8601 UTC. */
export function resolveAuditTime(value: string, now = Date.now()): string {
  const m = RELATIVE.exec(value);
  if (m) return new Date(now - Number(m[1]) * RELATIVE_MS[m[2] as keyof typeof RELATIVE_MS]).toISOString();
  const problem = auditTimeProblem(value);
  if (problem) throw new RangeError(problem);
  return new Date(value).toISOString();
}

const auditTimeSchema = z
  .string()
  .max(40)
  .superRefine((value, ctx) => {
    const problem = auditTimeProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const AUDIT_LIST_MAX = 1000;

/** `GET /api/audit`: newest first; `before` pages on (the `next` of the previous page). */
export const auditQuerySchema = z.strictObject({
  since: auditTimeSchema.optional().describe('from this time on: an age (30m, 12h, 7d, 2w) or ISO 8601'),
  until: auditTimeSchema.optional().describe('before this time: an age or ISO 8601'),
  app: z.string().min(1).max(200).optional().describe('only changes to this app (name or id)'),
  env: z.string().min(1).max(100).optional().describe('only changes to this environment'),
  actor: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('only changes by this actor (`token:ci`, `user:ana`) or principal name (`ci`, `ana`)'),
  limit: z.coerce.number().int().min(1).max(AUDIT_LIST_MAX).optional().describe('default 100'),
  before: z.coerce.number().int().min(1).optional().describe('only entries with a smaller seq (paging)'),
});
export type AuditQuery = z.infer<typeof auditQuerySchema>;

/** Who made a change, as the server knew them then. */
export const auditPrincipalSchema = z.object({
  kind: z.string().describe("'user' (a person) or 'token'"),
  name: z.string(),
  /** The token's role, or `user` for a person (whose roles are in `roles`). */
  role: z.string(),
  userId: z.string().nullable(),
  tokenId: z.string().nullable(),
  groups: z.array(z.string()),
  /** The role bindings the principal held: `admin`, `deployer@shop`, `deployer@shop/production`. */
  roles: z.array(z.string()),
});
export type AuditPrincipal = z.infer<typeof auditPrincipalSchema>;

/** One recorded change. Secret-looking fields of the body, before and after read `***`. */
export const auditEntrySchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  /** `token:<name>`, `user:<login>`, `anonymous`, or `gantry:<part>` for the server's own records. */
  actor: z.string(),
  principal: auditPrincipalSchema.nullable(),
  /** The HTTP method, or `SYSTEM` for what the server does by itself (pruning the log). */
  method: z.string(),
  /** The route pattern (`/api/apps/:app/deploy`), or what the server did (`audit.prune`). */
  route: z.string(),
  params: z.record(z.string(), z.unknown()),
  query: z.record(z.string(), z.unknown()).nullable(),
  app: z.string().nullable(),
  env: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  requestId: z.string().nullable(),
  /** The answer's status code. */
  status: z.number().int(),
  body: z.unknown(),
  before: z.unknown(),
  after: z.unknown(),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export const auditListSchema = z.object({
  entries: z.array(auditEntrySchema),
  /** Pass as `before` for the next (older) page; null on the last page. */
  next: z.number().int().nullable(),
});
export type AuditList = z.infer<typeof auditListSchema>;

const chainPointSchema = z.object({ seq: z.number().int(), hash: z.string() });

/** `POST /api/audit/verify`: the chain checked from its anchor to its head. */
export const auditVerifySchema = z.object({
  ok: z.boolean(),
  /** Rows checked. */
  rows: z.number().int(),
  /** The first row that breaks the chain: changed, missing (deleted) or out of place. */
  firstBroken: z
    .object({
      seq: z.number().int(),
      /** When the row was written; null for a row that is missing. */
      at: z.string().nullable(),
      why: z.string(),
    })
    .nullable(),
  /** Where the chain starts: the last row pruned by retention ({ seq: 0 } before any pruning). */
  anchor: chainPointSchema,
  /** The last row written. Keep a copy elsewhere: a log rewritten as a whole ends at another hash. */
  head: chainPointSchema,
});
export type AuditVerify = z.infer<typeof auditVerifySchema>;
