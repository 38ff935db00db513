import type { ContextProperties, ToggleContext } from '../evaluator/index.js';

/** Context fields the evaluator reads at the top level; everything else goes to `properties`. */
const TOP_LEVEL = new Set(['userId', 'sessionId', 'remoteAddress', 'environment', 'appName', 'currentTime']);

export type ContextError = { errorCode: 'PARSE_ERROR' | 'INVALID_CONTEXT'; errorDetails: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return undefined;
  return JSON.stringify(v);
}

/**
 * An OFREP request body `{ context }` as the evaluator's context. `targetingKey` becomes `userId`
 * unless the context names a `userId` of its own; `environment` defaults to the token's.
 */
export function toToggleContext(body: unknown, env: string): ToggleContext | ContextError {
  if (!isObject(body))
    return { errorCode: 'PARSE_ERROR', errorDetails: 'the request body must be a JSON object' };
  const context = body.context ?? {};
  if (!isObject(context)) {
    return { errorCode: 'INVALID_CONTEXT', errorDetails: '`context` must be an object of attributes' };
  }
  const out: ToggleContext = { environment: env };
  const properties: ContextProperties = Object.create(null);
  // Unleash-style nested properties first, so that top-level attributes win.
  if (isObject(context.properties)) {
    for (const [k, v] of Object.entries(context.properties)) properties[k] = asString(v);
  }
  for (const [k, v] of Object.entries(context)) {
    if (k === 'properties' && isObject(v)) continue;
    const value = asString(v);
    if (value === undefined) continue;
    if (TOP_LEVEL.has(k)) out[k] = value;
    else properties[k] = value;
  }
  const targetingKey = asString(context.targetingKey);
  if (out.userId === undefined && targetingKey) out.userId = targetingKey;
  out.properties = properties;
  return out;
}

export function isContextError(c: ToggleContext | ContextError): c is ContextError {
  return typeof c.errorCode === 'string' && typeof c.errorDetails === 'string';
}
