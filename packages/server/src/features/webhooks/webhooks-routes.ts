import { z } from 'zod';
import { NotFound, Unauthenticated } from '../../errors.js';
import type { Gantry } from '../../gantry.js';
import type { TypedApp } from '../../http/http-app.js';
import type { AppRecord } from '../apps/app-store.js';
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

function verify(provider: WebhookProvider, raw: Buffer, headers: WebhookHeaders, secret: string): boolean {
  if (provider === 'github')
    return verifyGithubSignature(raw, headerValue(headers, 'x-hub-signature-256'), secret);
  if (provider === 'gitlab') return verifyGitlabToken(headerValue(headers, 'x-gitlab-token'), secret);
  const sig = headerValue(headers, 'x-gitea-signature') ?? headerValue(headers, 'x-hub-signature-256');
  return verifyGiteaSignature(raw, sig, secret);
}

async function findApp(g: Gantry, byName: string | undefined, urls: string[]): Promise<AppRecord> {
  if (byName) return g.apps.get(byName);
  const wanted = new Set(urls.map((u) => normaliseRepoUrl(u)));
  const app = (await g.apps.list()).find((a) => wanted.has(normaliseRepoUrl(a.repoUrl)));
  if (!app) {
    throw new NotFound(
      `no app is registered for ${urls[0] ?? 'this repository'}; add one with \`gantry app add\` or pass ?app=<name>`,
    );
  }
  return app;
}

export function webhooksRoutes(r: TypedApp, g: Gantry): void {
  r.post(
    '/api/webhooks/:provider',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Push webhooks from GitHub (X-Hub-Signature-256), GitLab (X-Gitlab-Token) or Gitea',
        params: z.object({ provider: z.enum(['github', 'gitlab', 'gitea']) }),
        querystring: z.object({ app: z.string().optional() }),
        security: [],
      },
    },
    async (req, reply) => {
      const { provider } = req.params;
      const headers = req.headers as WebhookHeaders;
      const parsed = parseWebhook(provider, headers, req.body);
      const raw = req.rawBody ?? Buffer.alloc(0);
      if (parsed.kind !== 'push') {
        if (req.query.app) {
          const app = await g.apps.get(req.query.app);
          if (!verify(provider, raw, headers, app.webhookSecret))
            throw new Unauthenticated('webhook signature does not match');
        }
        return { accepted: false, reason: parsed.kind === 'ping' ? 'ping' : parsed.reason };
      }
      const app = await findApp(g, req.query.app, parsed.notice.repoUrls);
      if (!verify(provider, raw, headers, app.webhookSecret)) {
        throw new Unauthenticated(
          `webhook signature does not match app "${app.name}"'s secret; copy it from \`gantry app secret ${app.name}\``,
        );
      }
      const ref = parsed.notice.ref;
      if (ref !== `refs/heads/${app.branch}` && !ref.startsWith('refs/tags/')) {
        return { accepted: false, reason: `ref ${ref} is neither the app's branch ${app.branch} nor a tag` };
      }
      const actor = parsed.notice.pusher ? `${provider}:${parsed.notice.pusher}` : provider;
      void g.commits.ingest(app, 'webhook', actor).catch((err: unknown) => {
        req.log.warn({ err, app: app.name }, 'ingesting a webhook push failed; the poller will retry');
      });
      reply.status(202);
      return { accepted: true, app: app.name };
    },
  );
}
