import { type Role, roles } from '@gantry/contracts/roles';
/**
 * Who may do what: permissions (one word per kind of action), the roles that grant them, and the
 * bindings that give a role to a person, a group or a token — on every app and environment, or on
 * one app, or on one environment of one app. Pure logic: the HTTP app checks each route's declared
 * permission against the principal's bindings (http/access-hook.ts), and the console asks the same.
 */
export const permissions = [
  /** Read apps, builds, artifacts, deployments, environments, toggles, releases, incidents, events. */
  'apps:read',
  /** Add and remove apps, their settings, forge and notification settings. */
  'apps:write',
  /** Start and cancel builds. */
  'builds:write',
  /** Deploy, promote, roll back (per environment). */
  'deployments:write',
  /** Lock, hold, recover an environment (per environment). */
  'environments:write',
  /** Create and change toggle definitions, strategies and segments. */
  'toggles:define',
  /** Turn toggles on and off in an environment (per environment). */
  'toggles:write',
  /** Plan, schedule, apply and revert releases (per environment). */
  'releases:write',
  /** Open, update and close incidents. */
  'incidents:write',
  /** Set and remove an app's secrets (per environment). */
  'secrets:write',
  /** Create service tokens and SDK tokens, list and revoke any token. */
  'tokens:write',
  /** Add, change and remove people and role bindings. */
  'users:write',
  /** Read the audit log and verify its chain. */
  'audit:read',
  /** Read the delivery metrics (the JSON API, the report, Prometheus' scrape). */
  'metrics:read',
  /** Server-wide settings and break-glass overrides. */
  'server:admin',
] as const;
export type Permission = (typeof permissions)[number];

/** Permissions that are granted per environment: a binding to one environment grants them there only. */
export const envScoped: ReadonlySet<Permission> = new Set([
  'deployments:write',
  'environments:write',
  'toggles:write',
  'releases:write',
  'secrets:write',
]);
/** Permissions that only a binding on every app grants (they are about the whole server). */
export const serverWide: ReadonlySet<Permission> = new Set([
  'tokens:write',
  'users:write',
  'audit:read',
  'server:admin',
]);

export { type Role, roles } from '@gantry/contracts/roles';

const grants: Record<Role, readonly Permission[]> = {
  admin: permissions,
  maintainer: [
    'apps:read',
    'apps:write',
    'builds:write',
    'toggles:define',
    'incidents:write',
    'secrets:write',
    'metrics:read',
  ],
  deployer: [
    'apps:read',
    'builds:write',
    'deployments:write',
    'environments:write',
    'incidents:write',
    'metrics:read',
  ],
  'release-manager': ['apps:read', 'toggles:write', 'releases:write', 'metrics:read'],
  viewer: ['apps:read', 'metrics:read'],
  'metrics-reader': ['metrics:read'],
};

/** What each role means, for `gantry roles`, the API document and the docs. */
export const roleDescriptions: Record<Role, string> = {
  admin: 'everything, on every app and environment',
  maintainer: 'app settings, builds, toggle definitions, secrets, incidents; no deploys, no toggle state',
  deployer: 'deploy, promote, roll back, lock, hold, recover (per environment), start builds, incidents',
  'release-manager': 'toggle state and releases (per environment); no deploys',
  viewer: 'read everything it is bound to, and the metrics',
  'metrics-reader': 'the delivery metrics only (Prometheus, dashboards)',
};

/** Older names still accepted: tokens made before roles were bound to apps say `metrics`. */
const aliases: Record<string, Role> = { metrics: 'metrics-reader' };

export function asRole(name: string): Role | null {
  if ((roles as readonly string[]).includes(name)) return name as Role;
  return aliases[name] ?? null;
}

export function permissionsOfRole(role: string): readonly Permission[] {
  const r = asRole(role);
  return r ? grants[r] : [];
}

/** A role given on every app (app null), on one app (env null) or on one environment of one app. */
export interface Binding {
  role: Role;
  app: string | null;
  env: string | null;
}

/** Where a request acts: the app and environment named by its path, query or body, when it names them. */
export interface Scope {
  /** `*` for a request that acts on every app (adding one). */
  app?: string;
  env?: string;
}

/**
 * Whether bindings grant a permission in a scope. A binding to one app grants nothing server-wide;
 * a binding to one environment grants its env-scoped permissions only there, and its other
 * permissions (reading, say) on the whole app. A request that names no app needs a binding that
 * covers some app (lists filter what they show); one that names an app but no environment, for an
 * env-scoped permission, needs the permission on every environment of that app.
 */
export function allows(bindings: readonly Binding[], permission: Permission, scope: Scope = {}): boolean {
  return bindings.some((b) => {
    if (!permissionsOfRole(b.role).includes(permission)) return false;
    if (b.app === null) return true;
    // `*`: the request acts on the whole server (adding an app), which no one app's binding covers.
    if (serverWide.has(permission) || scope.app === '*') return false;
    if (scope.app !== undefined && scope.app !== b.app) return false;
    if (b.env === null || !envScoped.has(permission)) return true;
    return scope.env !== undefined && scope.env === b.env;
  });
}

/** Every permission the bindings grant somewhere: what the console shows or hides. */
export function permissionsOf(bindings: readonly Binding[]): Permission[] {
  return permissions.filter((p) =>
    bindings.some((b) => permissionsOfRole(b.role).includes(p) && (b.app === null || !serverWide.has(p))),
  );
}

/** The apps a principal may read, or 'all'. */
export function readableApps(bindings: readonly Binding[]): 'all' | Set<string> {
  const apps = new Set<string>();
  for (const b of bindings) {
    if (!permissionsOfRole(b.role).includes('apps:read')) continue;
    if (b.app === null) return 'all';
    apps.add(b.app);
  }
  return apps;
}
