import { createHmac } from 'node:crypto';
import type { GantryEvent } from '@gantry/contracts';
import { isBad, type SummaryContext, summarize } from './event-summary.js';

export const webhookFormats = ['gantry', 'slack'] as const;
export type WebhookFormat = (typeof webhookFormats)[number];

/** Where in the console an event's subject is shown, when it has a page there. */
export function consoleLink(
  baseUrl: string | undefined,
  e: GantryEvent,
  app: string | null,
): string | undefined {
  if (!baseUrl || !app || !e.subject) return undefined;
  const base = `${baseUrl.replace(/\/+$/, '')}/apps/${encodeURIComponent(app)}`;
  if (e.type.startsWith('build.')) return `${base}/builds/${encodeURIComponent(e.subject)}`;
  if (e.type.startsWith('deployment.') || e.type === 'check.finished')
    return `${base}/deployments/${encodeURIComponent(e.subject)}`;
  return undefined;
}

/**
 * Gantry's own format: the event as stored in the log, with the app's name and the delivery's id
 * (the same on every retry and redelivery, so a receiver can drop what it has seen).
 */
export function gantryBody(e: GantryEvent, app: string | null, delivery: string): Record<string, unknown> {
  return {
    delivery,
    id: e.id,
    type: e.type,
    app,
    appId: e.appId,
    subject: e.subject,
    actor: e.actor,
    data: e.data,
    createdAt: e.createdAt,
  };
}

/** Slack's mrkdwn gives `&`, `<` and `>` meaning; text from repositories must not. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A Slack incoming-webhook message (https://api.slack.com/messaging/webhooks): `text` is the
 * sentence (what notifications and old clients show), `blocks` the same with a mark and a link.
 */
export function slackBody(
  e: GantryEvent,
  c: SummaryContext,
  link: string | undefined,
): Record<string, unknown> {
  const sentence = summarize(e, c);
  const mark = isBad(e.type)
    ? ':red_circle:'
    : /\.(succeeded|verified|resolved|pushed)$/.test(e.type)
      ? ':large_green_circle:'
      : ':white_circle:';
  const context = [`\`${e.type}\``, `by ${slackEscape(e.actor)}`, ...(link ? [`<${link}|details>`] : [])];
  return {
    text: sentence,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${mark} ${slackEscape(sentence).slice(0, 2900)}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] },
    ],
  };
}

/**
 * The signature headers of a webhook request. The signed bytes are the timestamp, a dot and the
 * exact body, so a captured request cannot be replayed later with a fresh timestamp:
 * `X-Gantry-Signature: sha256=<hex of HMAC-SHA256(secret, "<X-Gantry-Timestamp>.<body>")>`.
 */
export function signatureHeaders(secret: string, body: Buffer, timestamp: number): Record<string, string> {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return { 'X-Gantry-Timestamp': String(timestamp), 'X-Gantry-Signature': `sha256=${mac}` };
}
