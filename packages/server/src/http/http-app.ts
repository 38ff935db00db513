import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyHttpOptions,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
  type RawServerDefault,
} from 'fastify';
import { jsonSchemaTransform, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { readTls } from '../config/tls-config.js';
import { InvalidInput } from '../errors.js';
import { agentsRoutes } from '../features/agents/agents-routes.js';
import { hostJobsRoutes } from '../features/agents/host-jobs-routes.js';
import { approvalsRoutes } from '../features/approvals/approvals-routes.js';
import { appsRoutes } from '../features/apps/apps-routes.js';
import { artifactsRoutes } from '../features/artifacts/artifacts-routes.js';
import { registerAudit } from '../features/audit/register-audit.js';
import { tokensRoutes } from '../features/auth/tokens-routes.js';
import { buildsRoutes } from '../features/builds/builds-routes.js';
import { checksRoutes } from '../features/checks/checks-routes.js';
import { hooksRoutes } from '../features/commits/hooks-routes.js';
import { deploymentTimelineRoutes } from '../features/deployments/deployment-timeline-routes.js';
import { deploymentsRoutes } from '../features/deployments/deployments-routes.js';
import { promotionRoutes } from '../features/deployments/promotion-routes.js';
import { configDiffRoutes } from '../features/environments/config-diff-routes.js';
import { environmentsRoutes } from '../features/environments/environments-routes.js';
import { forgeRoutes } from '../features/forge/forge-routes.js';
import { incidentsRoutes } from '../features/incidents/incidents-routes.js';
import { consoleMetricsRoutes } from '../features/metrics/console-metrics-routes.js';
import { metricsRoutes } from '../features/metrics/metrics-routes.js';
import { prometheusRoutes } from '../features/metrics/prometheus.js';
import { notificationsRoutes } from '../features/notifications/notifications-routes.js';
import { oidcRoutes } from '../features/oidc/oidc-routes.js';
import { releasesRoutes } from '../features/releases/releases-routes.js';
import { retentionRoutes } from '../features/retention/retention-routes.js';
import { revertsRoutes } from '../features/reverts/reverts-routes.js';
import { secretsRoutes } from '../features/secrets/secrets-routes.js';
import { sessionRoutes } from '../features/session/session-routes.js';
import { clientAdminRoutes } from '../features/toggles/client-api/client-admin-routes.js';
import { clientDeltaRoutes } from '../features/toggles/client-api/client-delta.js';
import { clientRoutes } from '../features/toggles/client-api/client-routes.js';
import { clientStreamingRoutes } from '../features/toggles/client-api/client-streaming.js';
import { frontendRoutes } from '../features/toggles/frontend-api/frontend-routes.js';
import { ofrepEventsRoutes } from '../features/toggles/ofrep/ofrep-events.js';
import { ofrepRoutes } from '../features/toggles/ofrep/ofrep-routes.js';
import { toggleEnvironmentRoutes } from '../features/toggles/toggle-environments-routes.js';
import { toggleReportRoutes, togglesRoutes } from '../features/toggles/toggles-routes.js';
import { usersRoutes } from '../features/users/users-routes.js';
import { webhooksRoutes } from '../features/webhooks/webhooks-routes.js';
import type { Gantry } from '../gantry.js';
import { registerAccess } from './access-hook.js';
import { errorHandler } from './error-mapper.js';
import { EventStreams } from './event-stream.js';
import { eventsRoutes } from './events-routes.js';
import { parseJsonBody, urlHasNul } from './json-body.js';
import { serverRoutes } from './server-routes.js';
import { registerWebConsole } from './web-console.js';

export async function buildHttpApp(g: Gantry): Promise<FastifyInstance> {
  const options = {
    // HTTPS when GANTRY_TLS_CERT/KEY are set; the routes see the same request and reply types.
    ...(g.config.tls ? { https: readTls(g.config.tls) } : {}),
    // A hop count is what proxy-addr takes too; Fastify's types list only the other forms.
    trustProxy: g.config.trustProxy as boolean | string[],
    loggerInstance: g.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 25 * 1024 * 1024,
  };
  const app = Fastify(options as FastifyHttpOptions<RawServerDefault, FastifyBaseLogger>);
  app.setValidatorCompiler(validatorCompiler);
  // Response schemas document the API (OpenAPI) only: answers go out as they are, never stripped or failed.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(errorHandler);

  // Webhook signatures are over the exact bytes received, so keep them.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const buf = body as Buffer;
    req.rawBody = buf;
    if (buf.length === 0) return done(null, {});
    let parsed: unknown;
    try {
      parsed = parseJsonBody(buf.toString('utf8'));
    } catch (error) {
      if (error instanceof InvalidInput) return done(error, undefined);
      return done(Object.assign(new Error('request body is not valid JSON'), { statusCode: 400 }), undefined);
    }
    done(null, parsed);
  });

  app.addHook('onRequest', async (req: FastifyRequest) => {
    if (urlHasNul(req.url)) {
      throw new InvalidInput('the URL holds a NUL character (%00); no name, id or parameter accepts one');
    }
  });
  // Every route declares who may call it; requests are authenticated and authorized here.
  registerAccess(app, {
    tokens: g.tokens,
    sessions: g.sessions,
    frontendCorsOrigins: g.config.frontendCorsOrigins,
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Gantry API',
        version: '0.1.0',
        description: 'Continuous delivery: builds, artifacts, events.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  // Every mutation is recorded (an onResponse hook); after swagger, so the audit routes are documented.
  registerAudit(app, g);

  app.get('/healthz', { config: { access: 'public' } }, async () => ({ ok: true }));
  await registerWebConsole(app, g.config.webDir);
  app.get('/api/openapi.json', { schema: { hide: true }, config: { access: 'signed-in' } }, async () =>
    app.swagger(),
  );

  // One set of streams for the event log, Unleash streaming and OFREP, so the caps hold across them.
  const streams = new EventStreams({
    maxPerToken: g.config.sseMaxPerToken,
    maxTotal: g.config.sseMaxTotal,
    maxBufferedBytes: g.config.sseMaxBufferedBytes,
  });
  app.decorate('eventStreams', streams);
  // A revoked token's streams close at once, like its next request would fail.
  g.tokens.onRevoked((tokenIds) => streams.closeFor({ tokenIds }));
  app.addHook('preClose', async () => streams.closeAll());

  const typed = app.withTypeProvider<ZodTypeProvider>();
  appsRoutes(typed, g);
  hooksRoutes(typed, g);
  buildsRoutes(typed, g);
  agentsRoutes(typed, g);
  hostJobsRoutes(typed, g);
  artifactsRoutes(typed, g);
  retentionRoutes(typed, g);
  eventsRoutes(typed, g, streams);
  serverRoutes(typed, g);
  webhooksRoutes(typed, g);
  tokensRoutes(typed, g);
  sessionRoutes(typed, { ...g, signedOutEverywhere: (userId) => streams.closeFor({ userId }) });
  oidcRoutes(typed, g);
  usersRoutes(typed, g);
  deploymentsRoutes(typed, g);
  approvalsRoutes(typed, g);
  environmentsRoutes(typed, g);
  promotionRoutes(typed, g);
  deploymentTimelineRoutes(typed, g);
  checksRoutes(typed, g);
  revertsRoutes(typed, g);
  configDiffRoutes(typed, g);
  togglesRoutes(typed, g);
  metricsRoutes(typed, g);
  consoleMetricsRoutes(typed, g);
  prometheusRoutes(typed, g);
  toggleReportRoutes(typed, g);
  releasesRoutes(typed, g);
  incidentsRoutes(typed, g);
  notificationsRoutes(typed, g);
  forgeRoutes(typed, g);
  secretsRoutes(typed, g);
  clientAdminRoutes(typed, g);
  clientRoutes(typed, g);
  clientDeltaRoutes(typed, g);
  toggleEnvironmentRoutes(typed, g);
  clientStreamingRoutes(typed, g, streams);
  ofrepRoutes(typed, g);
  ofrepEventsRoutes(typed, g, streams);
  frontendRoutes(typed, g);
  return app;
}
