import { auditListSchema, auditQuerySchema, auditVerifySchema, resolveAuditTime } from '@gantry/contracts';
import { NotFound } from '../../errors.js';
import type { TypedApp } from '../../http/route-kit.js';
import type { AppService } from '../apps/app-service.js';
import type { AuditLog } from './audit-log.js';

/** What the audit routes use. */
export interface AuditRoutesDeps {
  audit: Pick<AuditLog, 'list' | 'verify'>;
  apps: Pick<AppService, 'get'>;
}

/** The names an app is recorded under: as given, its name and its id (a removed app: as given). */
async function appNames(apps: AuditRoutesDeps['apps'], ref: string): Promise<string[]> {
  try {
    const app = await apps.get(ref);
    return [...new Set([ref, app.name, app.id])];
  } catch (err) {
    if (err instanceof NotFound) return [ref];
    throw err;
  }
}

export function auditRoutes(r: TypedApp, g: AuditRoutesDeps): void {
  r.get(
    '/api/audit',
    {
      config: { access: 'audit:read' },
      schema: {
        tags: ['audit'],
        summary:
          'Changes made through the API, newest first: who, which principal and role, from where, what, before/after, when; secrets masked',
        querystring: auditQuerySchema,
        response: { 200: auditListSchema },
      },
    },
    async (req) => {
      const { since, until, app, ...rest } = req.query;
      const now = Date.now();
      return g.audit.list({
        ...rest,
        since: since === undefined ? undefined : resolveAuditTime(since, now),
        until: until === undefined ? undefined : resolveAuditTime(until, now),
        apps: app === undefined ? undefined : await appNames(g.apps, app),
      });
    },
  );

  r.post(
    '/api/audit/verify',
    {
      // Reads only: checking the log is not a change to record.
      config: { access: 'audit:read', audit: false },
      schema: {
        tags: ['audit'],
        summary:
          "Check the audit log's hash chain from its anchor to its head; names the first changed, missing or misplaced row",
        response: { 200: auditVerifySchema },
      },
    },
    async () => g.audit.verify(),
  );
}
