/** Groups typed as "ops, release-leads" (commas or spaces): trimmed, without repeats. */
export function parseGroups(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

/**
 * A role binding's subject as typed: `group:ops` and `user:alice` as they are, a bare name is a
 * person (`alice` → `user:alice`); null for nothing or an unknown kind.
 */
export function subjectOf(text: string): string | null {
  const t = text.trim();
  if (!t) return null;
  const m = /^(\w+):(.+)$/.exec(t);
  if (!m) return `user:${t}`;
  return m[1] === 'user' || m[1] === 'group' ? `${m[1]}:${(m[2] ?? '').trim()}` : null;
}

/** "deployer on shop production", "admin on every app", "viewer on every environment of shop". */
export function bindingWords(b: { role: string; app: string | null; env: string | null }): string {
  if (!b.app) return `${b.role} on every app`;
  return b.env ? `${b.role} on ${b.app} ${b.env}` : `${b.role} on every environment of ${b.app}`;
}

/** A binding that comes to a person through a group says so: "deployer on … (through group:ops)". */
export function personBindingWords(
  login: string,
  b: { subject: string; role: string; app: string | null; env: string | null },
): string {
  return b.subject === `user:${login}` ? bindingWords(b) : `${bindingWords(b)} (through ${b.subject})`;
}

/** "never", or the date; for when a token was last used or when it expires. */
export function whenWords(iso: string | null, never: string): string {
  if (!iso) return never;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? new Date(t).toLocaleString() : never;
}

/** Whether a token still works: revoked and expired ones are listed but do nothing. */
export function tokenState(
  t: { revokedAt: string | null; expiresAt: string | null },
  now = Date.now(),
): 'active' | 'revoked' | 'expired' {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt && Date.parse(t.expiresAt) <= now) return 'expired';
  return 'active';
}
