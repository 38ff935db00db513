import { isAbsolute } from 'node:path';

/** Single sign-on with an OpenID Connect provider (GANTRY_OIDC_*); absent when not configured. */
export interface OidcConfig {
  /** GANTRY_OIDC_ISSUER: the provider's issuer URL (its discovery document is under it). */
  issuer: string;
  /** GANTRY_OIDC_CLIENT_ID: the client registered at the provider for this Gantry. */
  clientId: string;
  /** GANTRY_OIDC_CLIENT_SECRET: the client's secret; none for a public client (PKCE only). */
  clientSecret?: string;
  /** GANTRY_OIDC_CLIENT_SECRET_FILE: a file holding the secret, read when the client is set up. */
  clientSecretFile?: string;
  /**
   * GANTRY_OIDC_GROUPS_CLAIM (default `groups`): the claim listing the person's groups, from the ID
   * token or else the userinfo endpoint. A name with dots that is not a claim itself is read as a
   * path (`realm_access.roles`).
   */
  groupsClaim: string;
  /** GANTRY_OIDC_SCOPES (default `openid profile email`; space- or comma-separated). */
  scopes: string[];
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Whether the issuer may be reached over plain HTTP: only on this machine (a provider for tests or a local setup). */
export function issuerAllowsHttp(issuer: string): boolean {
  try {
    const url = new URL(issuer);
    return url.protocol === 'http:' && LOOPBACK.has(url.hostname);
  } catch {
    return false;
  }
}

/** GANTRY_OIDC_* from the environment; errors say which variable is wrong and what it expects. */
export function oidcConfigFromEnv(env: NodeJS.ProcessEnv, errors: string[]): OidcConfig | undefined {
  const issuer = env.GANTRY_OIDC_ISSUER?.trim() || undefined;
  const clientId = env.GANTRY_OIDC_CLIENT_ID?.trim() || undefined;
  const clientSecret = env.GANTRY_OIDC_CLIENT_SECRET || undefined;
  const clientSecretFile = env.GANTRY_OIDC_CLIENT_SECRET_FILE?.trim() || undefined;
  if (!issuer) {
    if (clientId || clientSecret || clientSecretFile)
      errors.push(
        'GANTRY_OIDC_CLIENT_ID/SECRET are set but GANTRY_OIDC_ISSUER is not: set the issuer URL too',
      );
    return undefined;
  }
  const config: OidcConfig = {
    issuer,
    clientId: clientId ?? '',
    groupsClaim: env.GANTRY_OIDC_GROUPS_CLAIM?.trim() || 'groups',
    scopes: (env.GANTRY_OIDC_SCOPES?.trim() || 'openid profile email')
      .split(/[\s,]+/)
      .filter((s) => s !== ''),
    ...(clientSecret && { clientSecret }),
    ...(clientSecretFile && { clientSecretFile }),
  };
  errors.push(...oidcConfigProblems(config));
  return config;
}

/** What is wrong with an OIDC setting (from the environment or given whole, as tests do). */
export function oidcConfigProblems(config: OidcConfig): string[] {
  const problems: string[] = [];
  let url: URL | undefined;
  try {
    url = new URL(config.issuer);
  } catch {
    problems.push(
      `GANTRY_OIDC_ISSUER=${config.issuer}: expected a URL such as https://login.example.com/realms/main`,
    );
  }
  if (url && url.protocol !== 'https:' && !issuerAllowsHttp(config.issuer))
    problems.push(
      `GANTRY_OIDC_ISSUER=${config.issuer}: expected https:// (plain http only for a provider on this machine: localhost, 127.0.0.1, [::1])`,
    );
  if (!config.clientId)
    problems.push(
      'GANTRY_OIDC_ISSUER is set but GANTRY_OIDC_CLIENT_ID is not: set the client id registered at the provider',
    );
  if (config.clientSecret && config.clientSecretFile)
    problems.push('GANTRY_OIDC_CLIENT_SECRET and GANTRY_OIDC_CLIENT_SECRET_FILE are both set: keep one');
  if (config.clientSecretFile && !isAbsolute(config.clientSecretFile))
    problems.push(`GANTRY_OIDC_CLIENT_SECRET_FILE=${config.clientSecretFile}: expected an absolute path`);
  if (!config.scopes.includes('openid'))
    problems.push(`GANTRY_OIDC_SCOPES=${config.scopes.join(' ')}: must include openid`);
  if (!/^[^\s]+$/.test(config.groupsClaim))
    problems.push(`GANTRY_OIDC_GROUPS_CLAIM=${config.groupsClaim}: expected a claim name such as groups`);
  return problems;
}
