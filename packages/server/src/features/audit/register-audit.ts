import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { ServerConfig } from '../../config/server-config.js';
import type { Database } from '../../db/database.js';
import { nowIso } from '../../ids.js';
import type { AppService } from '../apps/app-service.js';
import { auditRecordOf } from './audit-hook.js';
import { AuditLog } from './audit-log.js';
import { auditRoutes } from './audit-routes.js';
import { SqlAuditStore } from './sql-audit-store.js';

/** What the audit log needs of the server. */
export interface AuditDeps {
  database: Pick<Database, 'db'>;
  config: Pick<ServerConfig, 'auditRetentionDays'>;
  logger: Logger;
  apps: Pick<AppService, 'get'>;
}

/**
 * Records every change made through the API (an `onResponse` hook: the answer is already on its way,
 * so recording never delays or fails it), serves `GET /api/audit` and `POST /api/audit/verify`, and
 * prunes rows past GANTRY_AUDIT_RETENTION every hour. Call it after the OpenAPI plugin is registered
 * (so the routes are in the document) and before the app is ready.
 */
export function registerAudit(app: FastifyInstance, deps: AuditDeps): AuditLog {
  const audit = new AuditLog({
    store: new SqlAuditStore(deps.database.db),
    logger: deps.logger,
    retentionDays: deps.config.auditRetentionDays,
  });
  app.addHook('onResponse', async (req, reply) => {
    try {
      const record = auditRecordOf(req, reply.statusCode, nowIso());
      if (record) audit.record(record);
    } catch (err) {
      deps.logger.error(
        { err, method: req.method, url: req.url },
        'audit: could not record a change made through the API',
      );
    }
  });
  auditRoutes(app.withTypeProvider<ZodTypeProvider>(), { audit, apps: deps.apps });
  app.addHook('onReady', async () => audit.start());
  app.addHook('onClose', async () => audit.stop());
  return audit;
}
