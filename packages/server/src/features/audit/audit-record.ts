import type { AuditPrincipal } from '@gantry/contracts';

/** What one audit row says, before it is chained (given its seq and hashes). */
export interface AuditRecord {
  at: string;
  actor: string;
  principal: AuditPrincipal | null;
  method: string;
  route: string;
  params: Record<string, unknown>;
  query: Record<string, unknown> | null;
  app: string | null;
  env: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  status: number;
  body: unknown;
  before: unknown;
  after: unknown;
}

/** The route of what the server records by itself when retention prunes the log. */
export const PRUNE_ROUTE = 'audit.prune';

/** Field names whose values are never stored: `value` (a secret's, a toggle variant's) and anything secret-ish. */
const SECRET_FIELD = /secret|password|token/i;
const MASK = '***';
/** Stored JSON past this many characters is replaced by its size: the log is not a blob store. */
export const MAX_JSON_CHARS = 16 * 1024;
const MAX_DEPTH = 12;

function isSecretField(key: string): boolean {
  return key === 'value' || SECRET_FIELD.test(key);
}

/** `https://user:pass@host/` → `https://user:***@host/`: credentials in URLs are secrets too. */
function maskUrlCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]+@/gi, `$1${MASK}@`);
}

/**
 * A copy of `value` with secret-looking fields (`value`, `password`, `token`, `secret`,
 * `clientSecret`, anything matching /secret|password|token/i) replaced by `***` at any depth, and
 * credentials cut out of URLs. Null stays null, so clearing a secret still shows.
 */
export function maskSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskUrlCredentials(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '…';
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, depth + 1));
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretField(k) && v !== null && v !== undefined ? MASK : maskSecrets(v, depth + 1);
  }
  return out;
}

/** JSON text for a column: masked, `undefined` as null, and too long a text replaced by its size. */
export function storedJson(value: unknown): string | null {
  if (value === undefined) return null;
  const text = JSON.stringify(maskSecrets(value)) ?? null;
  if (text === null || text.length <= MAX_JSON_CHARS) return text;
  return JSON.stringify({ truncated: true, chars: text.length });
}

/** A role binding as people read it: `admin`, `deployer@shop`, `deployer@shop/production`. */
export function bindingLabel(b: { role: string; app: string | null; env: string | null }): string {
  if (b.app === null) return b.role;
  return b.env === null ? `${b.role}@${b.app}` : `${b.role}@${b.app}/${b.env}`;
}

/**
 * The fields of a request's principal the log keeps. Structural, so that this feature reads what
 * the auth feature gives without depending on how it builds it.
 */
export interface PrincipalLike {
  kind?: string;
  name: string;
  role: string;
  userId?: string | null;
  tokenId?: string | null;
  groups?: readonly string[];
  bindings?: readonly { role: string; app: string | null; env: string | null }[];
}

export function auditPrincipal(p: PrincipalLike | undefined): AuditPrincipal | null {
  if (!p) return null;
  return {
    kind: p.kind ?? 'token',
    name: p.name,
    role: p.role,
    userId: p.userId ?? null,
    tokenId: p.tokenId ?? null,
    groups: [...(p.groups ?? [])],
    roles: p.bindings ? p.bindings.map(bindingLabel) : [p.role],
  };
}

/** The first of the places that name it (path, query, body) that holds a string. */
export function named(key: string, ...places: unknown[]): string | null {
  for (const place of places) {
    if (place === null || typeof place !== 'object' || Array.isArray(place)) continue;
    const v = (place as Record<string, unknown>)[key];
    if (typeof v === 'string' && v !== '') return v.slice(0, 200);
  }
  return null;
}
