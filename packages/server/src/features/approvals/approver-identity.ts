import { parseApprover } from '@gantry/contracts';
import { allows } from '../access/roles.js';
import type { Requester } from '../deployments/deployment-gate.js';

/**
 * Who a principal is, as approvals name it, and what it may do here. The one place that maps a
 * request's principal to approvers: people (`user:<login>`), their groups (`group:<name>`, from
 * single sign-on or given by an admin) and service tokens (`token:<name>`). A token's name also
 * matches a bare or `user:` entry of `from`, so that teams without people accounts can list the
 * tokens their people use.
 */

/** A principal as approvals name it: `user:<login>` or `token:<name>`. */
export function identityOf(p: Pick<Requester, 'kind' | 'name'>): string {
  return `${p.kind ?? 'token'}:${p.name}`;
}

/**
 * Who asked for a deployment. The principal when the HTTP layer passed it; otherwise what the actor
 * says about it: the routes write `token:<name>`, or `<who the CLI says> (token:<name>)` of which
 * only the part in parentheses is vouched for. A pushed tag is its tagger, `git:<email>` (Gantry
 * cannot know who pushed it: the hook and the poller only see that it arrived).
 */
export function requesterOf(r: { trigger: string; actor: string; principal?: Requester }): string {
  if (r.principal) return identityOf(r.principal);
  const vouched = /\(((?:user|token):[^()]+)\)$/.exec(r.actor)?.[1];
  if (vouched) return vouched;
  if (/^(?:user|token):/.test(r.actor)) return r.actor;
  if (r.trigger === 'tag') return `git:${/<([^<>]+)>$/.exec(r.actor)?.[1] ?? r.actor}`;
  return r.actor;
}

/**
 * Whether the principal is the requester. A tagger (`git:<email>`) is the person whose login is that
 * email or its local part; a token is never a tagger.
 */
export function isRequester(requester: string, p: Pick<Requester, 'kind' | 'name'>): boolean {
  if (requester === identityOf(p)) return true;
  if (!requester.startsWith('git:') || p.kind !== 'user') return false;
  const email = requester.slice(4);
  return p.name === email || p.name === email.split('@')[0];
}

/**
 * Whether gantry.yaml's `from` list names the principal: its login, one of its groups, or its token
 * (by `token:<name>`, or by its bare name while Gantry's people are tokens).
 */
export function mayApprove(from: readonly string[], p: Pick<Requester, 'kind' | 'name' | 'groups'>): boolean {
  const kind = p.kind ?? 'token';
  return from.some((ref) => {
    const parsed = parseApprover(ref);
    if (parsed.kind === 'group') return (p.groups ?? []).includes(parsed.name);
    if (parsed.name !== p.name) return false;
    return parsed.kind === kind || (kind === 'token' && !ref.includes(':'));
  });
}

/** `server:admin` (features/access/roles.ts): what break-glass needs. */
export function isAdmin(p: Pick<Requester, 'role' | 'bindings'>): boolean {
  return p.bindings ? allows(p.bindings, 'server:admin') : p.role === 'admin';
}
