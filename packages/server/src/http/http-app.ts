import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { jsonSchemaTransform, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { InvalidInput, NotAllowed, Unauthenticated } from '../errors.js';
import { appsRoutes } from '../features/apps/apps-routes.js';
import { artifactsRoutes } from '../features/artifacts/artifacts-routes.js';
import type { Principal } from '../features/auth/token-service.js';
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
import { releasesRoutes } from '../features/releases/releases-routes.js';
import { revertsRoutes } from '../features/reverts/reverts-routes.js';
import { sessionOf, sessionRoutes } from '../features/session/session-routes.js';
import { clientAdminRoutes } from '../features/toggles/client-api/client-admin-routes.js';
import { clientDeltaRoutes } from '../features/toggles/client-api/client-delta.js';
import { clientRoutes } from '../features/toggles/client-api/client-routes.js';
import { clientStreamingRoutes } from '../features/toggles/client-api/client-streaming.js';
import { FRONTEND_ROUTES, frontendCors } from '../features/toggles/frontend-api/frontend-cors.js';
import { frontendRoutes } from '../features/toggles/frontend-api/frontend-routes.js';
import { ofrepEventsRoutes } from '../features/toggles/ofrep/ofrep-events.js';
import { ofrepRoutes } from '../features/toggles/ofrep/ofrep-routes.js';
import { toggleEnvironmentRoutes } from '../features/toggles/toggle-environments-routes.js';
import { toggleReportRoutes, togglesRoutes } from '../features/toggles/toggles-routes.js';
import { webhooksRoutes } from '../features/webhooks/webhooks-routes.js';
import type { Gantry } from '../gantry.js';
import { errorHandler } from './error-mapper.js';
import { EventStreams } from './event-stream.js';
import { eventsRoutes } from './events-routes.js';
import { parseJsonBody, urlHasNul } from './json-body.js';
import { serverRoutes } from './server-routes.js';
import { isConsolePage, isConsoleRequest, registerWebConsole } from './web-console.js';

/** `/api/session` checks its own credentials: a token in the body, or the session cookie. */
const PUBLIC = [/^\/healthz$/, /^\/api\/webhooks\//, /^\/api\/session$/];
/** Routes a `hook` token may call (the post-receive hook only tells the server about a push). */
const HOOK_ROUTES = [/^\/api\/hooks\/git$/];
/** What a `metrics` token (Prometheus, dashboards) may read: the scrape and the report, GET only. */
const METRICS_ROUTES = [/^\/metrics$/, /^\/api\/metrics(\/(scopes|report))?$/];
/** Routes SDKs call with a client token (`<app>:<env>.<secret>`); no other route accepts one. */
const CLIENT_ROUTES = [/^\/api\/client(\/|$)/, /^\/ofrep(\/|$)/];

/** Unleash SDKs send the token raw in `Authorization`; everything else sends `Bearer <token>`. */
function tokenOf(header: string | undefined): string | undefined {
  const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : header?.trim();
  return token || undefined;
}

export async function buildHttpApp(g: Gantry): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: g.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 25 * 1024 * 1024,
  });
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

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (urlHasNul(req.url)) {
      throw new InvalidInput('the URL holds a NUL character (%00); no name, id or parameter accepts one');
    }
    const path = req.url.split('?')[0] ?? '';
    if (PUBLIC.some((r) => r.test(path)) || isConsoleRequest(req.method, path) || isConsolePage(req)) return;
    const clientRoute = CLIENT_ROUTES.some((r) => r.test(path));
    const frontendRoute = FRONTEND_ROUTES.some((r) => r.test(path));
    // Browsers call the Frontend API from other origins; a preflight carries no token.
    if (frontendRoute && frontendCors(req, reply, g.config.frontendCorsOrigins)) return reply;
    // OFREP lets providers send the key as `X-API-Key` instead of `Authorization`.
    const apiKey = clientRoute ? req.headers['x-api-key'] : undefined;
    const token =
      tokenOf(req.headers.authorization) ?? tokenOf(typeof apiKey === 'string' ? apiKey : undefined);
    // The console's session cookie stands in for a token on the API's own routes, never on SDK ones.
    const session = !token && !clientRoute && !frontendRoute ? await sessionOf(req, g.sessions) : null;
    if (session) {
      authorize(req, path, session.principal);
      req.principal = session.principal;
      return;
    }
    if (!token) {
      if (frontendRoute) {
        throw new Unauthenticated(
          'missing frontend token: send `Authorization: <app>:<env>.<secret>` (create one with `gantry tokens create --kind frontend --app <app> --env <env>`)',
        );
      }
      throw new Unauthenticated(
        clientRoute
          ? 'missing client token: send `Authorization: <app>:<env>.<secret>` (create one with `gantry tokens create --app <app> --env <env>`)'
          : 'missing API token: send `Authorization: Bearer <token>` (the CLI reads GANTRY_TOKEN or `gantry login`)',
      );
    }
    const principal = await g.tokens.verify(token);
    if (!principal) {
      throw new Unauthenticated(
        clientRoute
          ? 'unknown client token; create one with `gantry tokens create --app <app> --env <env>`'
          : 'unknown API token: this server did not issue it, or it was revoked (a server started with another data dir or database knows other tokens). ' +
              'Ask an admin for a new one (`gantry token create <name>` with their token); on the server host, `<data-dir>/cli.json` holds the admin token of its first start',
      );
    }
    if (frontendRoute !== (principal.role === 'frontend')) {
      throw new NotAllowed(
        frontendRoute
          ? `invalid token: ${path} needs a frontend token (\`gantry tokens create --kind frontend\`), not ${/^[aeiou]/.test(principal.role) ? 'an' : 'a'} ${principal.role} token`
          : 'invalid token: a frontend token may only call the Frontend API (/api/frontend*); server-side SDKs and OFREP take a client token',
      );
    }
    if (clientRoute && principal.role !== 'client') {
      throw new NotAllowed(
        `invalid token: ${path} needs a client token (\`<app>:<env>.<secret>\` from \`gantry tokens create\`), not ${/^[aeiou]/.test(principal.role) ? 'an' : 'a'} ${principal.role} token`,
      );
    }
    if (!clientRoute && principal.role === 'client') {
      throw new NotAllowed(
        'invalid token: a client token may only call the SDK endpoints (/api/client/*, /ofrep/*); use an admin token',
      );
    }
    authorize(req, path, principal);
    req.principal = principal;
  });

  /** What a principal's role allows, whichever way it signed the request (token or console session). */
  function authorize(req: FastifyRequest, path: string, principal: Principal): void {
    if (principal.role === 'hook' && !HOOK_ROUTES.some((r) => r.test(path))) {
      // Authenticated, just not allowed here: 403, like a client token outside the SDK routes.
      throw new NotAllowed(
        'a hook token may only notify pushes (POST /api/hooks/git); use an admin token for anything else',
      );
    }
    if (principal.role === 'metrics' && !(req.method === 'GET' && METRICS_ROUTES.some((r) => r.test(path)))) {
      throw new NotAllowed(
        'a metrics token may only read the delivery metrics (GET /metrics, GET /api/metrics); use an admin token for anything else',
      );
    }
  }

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

  app.get('/healthz', async () => ({ ok: true }));
  await registerWebConsole(app, g.config.webDir);
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // One set of streams for the event log, Unleash streaming and OFREP, so the caps hold across them.
  const streams = new EventStreams({
    maxPerToken: g.config.sseMaxPerToken,
    maxTotal: g.config.sseMaxTotal,
    maxBufferedBytes: g.config.sseMaxBufferedBytes,
  });
  app.decorate('eventStreams', streams);
  app.addHook('preClose', async () => streams.closeAll());

  const typed = app.withTypeProvider<ZodTypeProvider>();
  appsRoutes(typed, g);
  hooksRoutes(typed, g);
  buildsRoutes(typed, g);
  artifactsRoutes(typed, g);
  eventsRoutes(typed, g, streams);
  serverRoutes(typed, g);
  webhooksRoutes(typed, g);
  tokensRoutes(typed, g);
  sessionRoutes(typed, g);
  deploymentsRoutes(typed, g);
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
