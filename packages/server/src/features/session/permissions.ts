/**
 * What a signed-in principal may do, as the console asks it: one word per kind of action. The
 * console hides or disables what is missing; the server's auth hook enforces the same roles.
 * Roles bound to apps and environments come with access and governance; until then a token's role
 * decides.
 */
export const permissions = [
  'apps:read',
  'apps:write',
  'builds:write',
  'deployments:write',
  'environments:write',
  'toggles:write',
  'releases:write',
  'incidents:write',
  'tokens:write',
  'metrics:read',
] as const;
export type Permission = (typeof permissions)[number];

/** Roles that may sign in to the console: SDK and hook tokens are for machines. */
export const consoleRoles = ['admin', 'metrics'] as const;

export function permissionsOf(role: string): Permission[] {
  if (role === 'admin') return [...permissions];
  if (role === 'metrics') return ['metrics:read'];
  return [];
}
