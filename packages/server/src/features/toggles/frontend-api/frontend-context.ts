import type { ContextProperties, ToggleContext } from '../evaluator/index.js';

/** Context fields Unleash keeps at the top level; any other field is a property, as unleash-server does. */
const TOP_LEVEL = new Set(['userId', 'sessionId', 'remoteAddress', 'appName', 'currentTime']);
/** `properties[plan]=pro` in a query string, as `unleash-proxy-client` sends properties with GET. */
const BRACKETED = /^properties\[(.+)\]$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  // A repeated query parameter: the first value, as unleash-server's query parser keeps.
  if (Array.isArray(v)) return asString(v[0]);
  return undefined;
}

/**
 * A Frontend API context from the query string (GET) or the JSON body (POST: `{ context }` as the
 * SDKs send it, or the context itself). The environment is always the token's; `remoteAddress`
 * defaults to the caller's address.
 */
export function frontendContext(source: unknown, env: string, ip: string): ToggleContext {
  const raw = isObject(source) ? (isObject(source.context) ? source.context : source) : {};
  const out: ToggleContext = {};
  const properties: ContextProperties = Object.create(null);
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'properties' && isObject(v)) {
      for (const [pk, pv] of Object.entries(v)) {
        const value = asString(pv);
        if (value !== undefined) properties[pk] = value;
      }
      continue;
    }
    const value = asString(v);
    if (value === undefined || k === 'environment') continue;
    const bracketed = BRACKETED.exec(k);
    if (bracketed?.[1]) properties[bracketed[1]] = value;
    else if (TOP_LEVEL.has(k)) out[k] = value;
    else properties[k] = value;
  }
  out.environment = env;
  out.remoteAddress ??= ip;
  out.properties = properties;
  return out;
}
