import { z } from 'zod';
import { deliveryStatuses } from './delivery-store.js';
import { webhookFormats } from './webhook-format.js';

/** Per attempt: what was sent where, and what came back. */
export const attemptSchema = z.object({
  id: z.string(),
  number: z.number().describe('1 for the first attempt; counts redeliveries too'),
  redelivery: z.boolean().describe('asked for by hand'),
  startedAt: z.string(),
  ms: z.number(),
  method: z.string(),
  url: z.string().describe('credentials and query values masked'),
  responseStatus: z.number().nullable().describe('null when no answer came (refused, timed out)'),
  responseBody: z.string().nullable().describe('the start of the answer (2 KiB)'),
  error: z.string().nullable(),
});
export type Attempt = z.infer<typeof attemptSchema>;

export const deliverySchema = z.object({
  id: z.string().describe('also sent as X-Gantry-Delivery; the same on every retry'),
  target: z.string().describe('the webhook id, or forge:<app id>'),
  app: z.string().nullable().describe("the event's app"),
  event: z.object({ id: z.number(), type: z.string() }),
  action: z.string().describe('webhook, or the forge call (github.status, gitlab.deployment …)'),
  status: z
    .enum(deliveryStatuses)
    .describe('skipped: nothing to send any more (the webhook or the forge settings were removed)'),
  attemptCount: z.number(),
  maxAttempts: z.number(),
  nextAttemptAt: z.string().nullable().describe('while pending'),
  lastStatus: z.number().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  attempts: z.array(attemptSchema),
});
export type Delivery = z.infer<typeof deliverySchema>;

export const deliveryCountsSchema = z.object({
  pending: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  skipped: z.number(),
});

export const webhookSchema = z.object({
  id: z.string(),
  app: z.string().nullable().describe("null: every app's events"),
  url: z.string().describe('credentials, query values and secret path segments masked'),
  events: z.array(z.string()),
  format: z.enum(webhookFormats),
  signed: z.boolean().describe('whether a secret signs the requests (the secret itself is never returned)'),
  timeoutMs: z.number(),
  maxAttempts: z.number(),
  createdAt: z.string(),
  createdBy: z.string(),
  deliveries: deliveryCountsSchema,
});
export type Webhook = z.infer<typeof webhookSchema>;

export const newWebhookSchema = z.strictObject({
  url: z.string().min(1).max(2048).describe('http or https; credentials in it are kept but never shown'),
  app: z.string().max(200).nullish().describe("an app's name: only its events; omitted: every app's"),
  events: z
    .array(z.string().max(100))
    .max(100)
    .optional()
    .describe(
      'event types or prefixes (deployment.*), "*" for all; default: failures, deployments done, reverts, incidents',
    ),
  format: z
    .enum(webhookFormats)
    .optional()
    .describe('gantry (the event as JSON, default) or slack (an incoming-webhook message)'),
  secret: z
    .string()
    .min(8)
    .max(500)
    .optional()
    .describe('signs each request (X-Gantry-Signature); write-only'),
  timeoutMs: z.number().int().min(100).max(60_000).optional().describe('per attempt; default 10000'),
  maxAttempts: z.number().int().min(1).max(20).optional().describe('default 5'),
});
export type NewWebhookInput = z.infer<typeof newWebhookSchema>;
