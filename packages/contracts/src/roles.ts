// The roles a person, group or service token is given, without zod (the CLI's fast paths import this).

export const roles = [
  'admin',
  'maintainer',
  'deployer',
  'release-manager',
  'viewer',
  'metrics-reader',
] as const;
export type Role = (typeof roles)[number];
