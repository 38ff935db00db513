import { InvalidInput } from '../../errors.js';
import { giteaPushNotice, githubPushNotice, gitlabPushNotice } from './push-payloads.js';
import type { WebhookHeaders, WebhookProvider, WebhookResult } from './webhook-types.js';

export { normaliseRepoUrl } from './repo-url.js';
export { verifyGiteaSignature, verifyGithubSignature, verifyGitlabToken } from './webhook-signatures.js';
export type { PushNotice, WebhookHeaders, WebhookProvider, WebhookResult } from './webhook-types.js';

/** Turns a delivery whose signature or token has already been verified into a push notice. */
export function parseWebhook(
  provider: WebhookProvider,
  headers: WebhookHeaders,
  body: unknown,
): WebhookResult {
  switch (provider) {
    case 'github':
      return parseGithub(headers, body);
    case 'gitlab':
      return parseGitlab(headers, body);
    case 'gitea':
      return parseGitea(headers, body);
  }
}

/** Case-insensitive header lookup; the first value wins when a header was repeated. */
export function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase();
  const key = wanted in headers ? wanted : Object.keys(headers).find((k) => k.toLowerCase() === wanted);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value[0] : value;
}

function requiredHeader(headers: WebhookHeaders, name: string): string {
  const value = headerValue(headers, name);
  if (!value) throw new InvalidInput(`missing ${name} header`);
  return value;
}

function parseGithub(headers: WebhookHeaders, body: unknown): WebhookResult {
  const event = requiredHeader(headers, 'X-GitHub-Event');
  if (event === 'ping') return { kind: 'ping' };
  if (event === 'push') return { kind: 'push', notice: githubPushNotice(body) };
  return ignored('github', event);
}

function parseGitlab(headers: WebhookHeaders, body: unknown): WebhookResult {
  const event = requiredHeader(headers, 'X-Gitlab-Event');
  if (event === 'Push Hook' || event === 'Tag Push Hook') {
    return { kind: 'push', notice: gitlabPushNotice(body) };
  }
  if (event === 'System Hook') {
    const kind =
      typeof body === 'object' && body !== null && 'object_kind' in body ? body.object_kind : undefined;
    if (kind === 'push' || kind === 'tag_push') return { kind: 'push', notice: gitlabPushNotice(body) };
    return ignored('gitlab', `System Hook (${String(kind)})`);
  }
  return ignored('gitlab', event);
}

function parseGitea(headers: WebhookHeaders, body: unknown): WebhookResult {
  const event = requiredHeader(headers, 'X-Gitea-Event');
  if (event === 'push') return { kind: 'push', notice: giteaPushNotice(body) };
  return ignored('gitea', event);
}

function ignored(provider: WebhookProvider, event: string): WebhookResult {
  return { kind: 'ignored', reason: `${provider} event "${event}" is not a push` };
}
