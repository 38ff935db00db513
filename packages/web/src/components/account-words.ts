export interface PrincipalInfo {
  kind: 'user' | 'token';
  name: string;
  role: string;
  groups: string[];
  bindings: { role: string; app: string | null; env: string | null }[];
}

/** Where a role binds: every app, one app, or one environment of it. */
export function scopeWords(b: { app: string | null; env: string | null }): string {
  if (!b.app) return 'every app';
  return b.env ? `${b.app} ${b.env}` : `every environment of ${b.app}`;
}

/** The words the account menu uses for a principal: "person" or "token", its role, its bindings. */
export function principalWords(p: PrincipalInfo): { kind: string; role: string | null; bindings: string[] } {
  const bindings = p.bindings.map((b) => `${b.role} on ${scopeWords(b)}`);
  return p.kind === 'user'
    ? { kind: 'person', role: null, bindings }
    : { kind: 'token', role: p.role, bindings };
}
