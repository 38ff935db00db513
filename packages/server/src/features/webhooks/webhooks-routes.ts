import { randomBytes } from 'node:crypto';
import type { FastifyError } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { InvalidInput, NotFound, Unauthenticated } from '../../errors.js';
import { errorHandler } from '../../http/error-mapper.js';
import { parseJsonBody } from '../../http/json-body.js';
import type { TypedApp } from '../../http/route-kit.js';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../apps/app-store.js';
import type { CommitService } from '../commits/commit-service.js';
import {
  headerValue,
  normaliseRepoUrl,
  parseWebhook,
  verifyGiteaSignature,
  verifyGithubSignature,
  verifyGitlabToken,
  type WebhookHeaders,
  type WebhookProvider,
} from './webhook-parsers.js';

/** GitHub's own limit for a delivery; GitLab and Gitea send less. */
export const WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;

/** What these routes use; the composition root (gantry.ts) passes them among all its services. */
export interface WebhooksRoutesDeps {
  apps: Pick<AppService, 'get' | 'list'>;
  commits: Pick<CommitService, 'ingest'>;
}

/**
 * One answer for an unknown app and a wrong signature, so the route does not reveal which apps
 * exist. The same text whatever was wrong.
 */
const REFUSED =
  'webhook signature or token does not match: set the webhook secret to the one `gantry app secret <app>` shows';

/** Verified against when the app is unknown, so that an unknown app costs what a wrong secret costs. */
const DECOY_SECRET = randomBytes(20).toString('hex');

function verify(provider: WebhookProvider, raw: Buffer, headers: WebhookHeaders, secret: string): boolean {
  if (provider === 'github')
    return verifyGithubSignature(raw, headerValue(headers, 'x-hub-signature-256'), secret);
  if (provider === 'gitlab') return verifyGitlabToken(headerValue(headers, 'x-gitlab-token'), secret);
  const sig = headerValue(headers, 'x-gitea-signature') ?? headerValue(headers, 'x-hub-signature-256');
  return verifyGiteaSignature(raw, sig, secret);
}

/**
 * The apps whose secret signed these exact bytes, before anything reads them: the named app, or
 * (without `?app=`) every app whose secret verifies. Empty means refused.
 */
async function signedBy(
  g: WebhooksRoutesDeps,
  provider: WebhookProvider,
  raw: Buffer,
  headers: WebhookHeaders,
  byName: string | undefined,
): Promise<AppRecord[]> {
  if (byName !== undefined) {
    const app = await g.apps.get(byName).catch((error: unknown) => {
      if (error instanceof NotFound) return undefined;
      throw error;
    });
    const ok = verify(provider, raw, headers, app?.webhookSecret ?? DECOY_SECRET);
    return app && ok ? [app] : [];
  }
  const apps = await g.apps.list();
  if (apps.length === 0) verify(provider, raw, headers, DECOY_SECRET);
  return apps.filter((a) => verify(provider, raw, headers, a.webhookSecret));
}

/** The delivery's JSON, read only once its signature held. */
function bodyOf(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return {};
  let text = raw.toString('utf8');
  // GitHub's "application/x-www-form-urlencoded" content type sends the JSON as `payload=`.
  if (contentType?.startsWith('application/x-www-form-urlencoded'))
    text = new URLSearchParams(text).get('payload') ?? '';
  try {
    return parseJsonBody(text);
  } catch (error) {
    if (error instanceof InvalidInput) throw error;
    throw new InvalidInput('webhook body is not valid JSON');
  }
}

export function webhooksRoutes(r: TypedApp, g: WebhooksRoutesDeps): void {
  // Its own scope: the body stays bytes (the global parser would parse JSON before any check).
  void r.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT },
      (_req, body, done) => done(null, body),
    );
    scope.setErrorHandler((err: FastifyError, req, reply) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        void reply.status(413).send({
          error: 'PayloadTooLarge',
          message: `webhook body is larger than ${WEBHOOK_BODY_LIMIT / 1024 / 1024} MB (GitHub's own limit for a delivery); it was not read`,
        });
        return;
      }
      errorHandler(err, req, reply);
    });

    scope.withTypeProvider<ZodTypeProvider>().post(
      '/api/webhooks/:provider',
      {
        // The forge has no token: the route checks the signature over the raw body itself.
        config: { access: 'public' },
        schema: {
          tags: ['webhooks'],
          summary:
            'Push webhooks from GitHub (X-Hub-Signature-256), GitLab (X-Gitlab-Token) or Gitea; the signature is checked over the raw body before it is read; bodies over 25 MB get 413',
          params: z.object({ provider: z.enum(['github', 'gitlab', 'gitea']) }),
          querystring: z.object({ app: z.string().optional() }),
          security: [],
        },
      },
      async (req, reply) => {
        const { provider } = req.params;
        const headers = req.headers as WebhookHeaders;
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const candidates = await signedBy(g, provider, raw, headers, req.query.app);
        if (candidates.length === 0) throw new Unauthenticated(REFUSED);

        const parsed = parseWebhook(provider, headers, bodyOf(raw, headerValue(headers, 'content-type')));
        if (parsed.kind !== 'push') {
          return { accepted: false, reason: parsed.kind === 'ping' ? 'ping' : parsed.reason };
        }
        const wanted = new Set(parsed.notice.repoUrls.map((u) => normaliseRepoUrl(u)));
        const app =
          req.query.app !== undefined
            ? candidates[0]
            : candidates.find((a) => wanted.has(normaliseRepoUrl(a.repoUrl)));
        if (!app) {
          throw new NotFound(
            `no app with this secret is registered for ${parsed.notice.repoUrls[0] ?? 'this repository'}; add one with \`gantry app add\` or pass ?app=<name>`,
          );
        }
        const ref = parsed.notice.ref;
        if (ref !== `refs/heads/${app.branch}` && !ref.startsWith('refs/tags/')) {
          return {
            accepted: false,
            reason: `ref ${ref} is neither the app's branch ${app.branch} nor a tag`,
          };
        }
        const actor = parsed.notice.pusher ? `${provider}:${parsed.notice.pusher}` : provider;
        void g.commits.ingest(app, 'webhook', actor).catch((err: unknown) => {
          req.log.warn({ err, app: app.name }, 'ingesting a webhook push failed; the poller will retry');
        });
        reply.status(202);
        return { accepted: true, app: app.name };
      },
    );
  });
}
