import { z } from 'zod';
import type { ClientApi } from './client-api.js';

// What server-side SDKs (/api/client/*) and frontend SDKs (/api/frontend/client/*) report: the same
// bodies, queued the same way; only where the instance id comes from differs.

const date = z.union([z.string(), z.number()]).refine((v) => !Number.isNaN(new Date(v).getTime()), {
  error: 'expected a date-time',
});
const count = z.number().int().min(0);

export const registerBody = z.object({
  appName: z.string().min(1).max(255),
  instanceId: z.string().max(255).optional(),
  sdkVersion: z.string().max(255).optional(),
  strategies: z.array(z.string().max(255)).max(200).optional(),
  interval: z.number().min(0).optional(),
  started: date.optional(),
});

export const metricsBody = z.object({
  appName: z.string().min(1).max(255),
  instanceId: z.string().max(255).optional(),
  bucket: z.object({
    start: date,
    stop: date,
    toggles: z.record(
      z.string().min(1).max(255),
      z.object({ yes: count, no: count, variants: z.record(z.string().max(255), count).optional() }),
    ),
  }),
});

export const tooMany = () =>
  Object.assign(new Error('too many requests for this client token; retry later'), {
    statusCode: 429,
    code: 'TooManyRequests',
  });

/** Queues one metrics bucket; a full queue is a 429, so the SDK keeps its counts and sends them again. */
export function queueMetrics(
  api: ClientApi,
  who: { appId: string; env: string },
  body: z.infer<typeof metricsBody>,
  instanceId: string | undefined,
): void {
  const queued = api.metrics.addMetrics({
    ...who,
    appName: body.appName,
    instanceId,
    start: body.bucket.start,
    toggles: body.bucket.toggles,
  });
  if (!queued) throw tooMany();
}

/** Queues an SDK instance's registration; `fallback` fills what the body leaves out. */
export function queueRegistration(
  api: ClientApi,
  who: { appId: string; env: string; tokenId?: string; tokenName?: string },
  body: z.infer<typeof registerBody>,
  fallback: { instanceId: string; sdkVersion: string | undefined },
): void {
  api.metrics.addRegistration({
    ...who,
    appName: body.appName,
    instanceId: body.instanceId ?? fallback.instanceId,
    sdkVersion: body.sdkVersion ?? fallback.sdkVersion ?? null,
    strategies: body.strategies ?? [],
    intervalMs: body.interval ?? null,
    startedAt: body.started === undefined ? null : new Date(body.started).toISOString(),
    lastSeenAt: new Date().toISOString(),
  });
}
