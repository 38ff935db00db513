/**
 * The OpenID Connect relying party: discovery of the provider (cached, set up again after a
 * failure), the authorization request with state, nonce and PKCE, and the code exchange whose ID
 * token openid-client verifies (signature, issuer, audience, expiry, nonce). Every failure becomes
 * an `OidcFailure` that says what happened and what to do; nothing here knows HTTP routes.
 */
import { readFile } from 'node:fs/promises';
import * as oidc from 'openid-client';
import { issuerAllowsHttp, type OidcConfig } from './oidc-config.js';

/** A failed sign-in, with the HTTP status it answers and a sentence for the person signing in. */
export class OidcFailure extends Error {
  constructor(
    /** 4xx, or 502 when the provider cannot be reached or refuses this server's client. */
    readonly status: number,
    /** A short title for the page: "Sign-in expired". */
    readonly title: string,
    message: string,
    /** For programs and tests: state, expired, denied, provider, misconfigured, unverified, no-role, disabled… */
    readonly reason: string,
  ) {
    super(message);
    this.name = 'OidcFailure';
  }
}

/** What Gantry keeps between sending the browser to the provider and its coming back. */
export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
}

/** Who signed in, as the provider's verified claims say. */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  /** preferred_username, else email, else sub. */
  login: string;
  name: string | null;
  email: string | null;
  groups: string[];
}

/** Requests to the provider give up after this long (discovery, token, userinfo). */
const TIMEOUT_S = 10;
/** The discovered metadata (endpoints, keys' location) is used this long before it is fetched again. */
const REDISCOVER_MS = 60 * 60_000;

const again = 'Go back to the console and sign in again.';

export class OidcClient {
  private discovered: { config: oidc.Configuration; at: number } | undefined;
  private discovering: Promise<oidc.Configuration> | undefined;

  constructor(private readonly settings: OidcConfig) {}

  get issuer(): string {
    return this.settings.issuer;
  }

  /** The provider's authorization URL for a new sign-in, and what to keep until the browser comes back. */
  async begin(redirectUri: string): Promise<{ url: URL; pending: PendingLogin }> {
    const config = await this.configuration();
    const pending: PendingLogin = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      redirectUri,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: this.settings.scopes.join(' '),
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url, pending };
  }

  /**
   * Exchanges the code the browser brought back (`callbackQuery`, the callback's query string) for
   * tokens, verifies the ID token and reads who signed in: from the ID token, and from the userinfo
   * endpoint when the ID token lacks the groups claim or a login (preferred_username, email).
   */
  async finish(callbackQuery: string, pending: PendingLogin): Promise<OidcIdentity> {
    const config = await this.configuration();
    const currentUrl = new URL(pending.redirectUri);
    currentUrl.search = callbackQuery;
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw this.exchangeFailure(error);
    }
    const idClaims = tokens.claims();
    if (!idClaims)
      throw new OidcFailure(
        502,
        'No ID token',
        `the provider answered without an ID token. ${again}`,
        'provider',
      );
    let claims: Record<string, unknown> = { ...idClaims };
    // Many providers keep profile claims (and groups) out of the ID token and give them at userinfo.
    const incomplete =
      claimAt(claims, this.settings.groupsClaim) === undefined ||
      (claims.preferred_username === undefined && claims.email === undefined);
    if (incomplete && config.serverMetadata().userinfo_endpoint) {
      try {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        claims = { ...info, ...claims };
      } catch (error) {
        throw unreachable(this.settings.issuer, error, 'its userinfo endpoint');
      }
    }
    return this.identityOf(claims, idClaims.sub);
  }

  private identityOf(claims: Record<string, unknown>, subject: string): OidcIdentity {
    const text = (key: string): string | null => {
      const v = claims[key];
      return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
    };
    return {
      issuer: this.settings.issuer,
      subject,
      login: text('preferred_username') ?? text('email') ?? subject,
      name: text('name'),
      email: text('email'),
      groups: groupsOf(claimAt(claims, this.settings.groupsClaim)),
    };
  }

  private exchangeFailure(error: unknown): OidcFailure {
    if (error instanceof oidc.AuthorizationResponseError) {
      const what = error.error_description ? `${error.error}: ${error.error_description}` : error.error;
      return error.error === 'access_denied'
        ? new OidcFailure(
            403,
            'Sign-in refused',
            `the provider did not let you sign in (${what}). ${again}`,
            'denied',
          )
        : new OidcFailure(
            400,
            'Sign-in failed',
            `the provider answered with an error (${what}). ${again}`,
            'denied',
          );
    }
    if (error instanceof oidc.ResponseBodyError) {
      const what = error.error_description ? `${error.error}: ${error.error_description}` : error.error;
      if (error.error === 'invalid_grant')
        return new OidcFailure(
          400,
          'Sign-in expired',
          `the provider refused the sign-in code (${what}): it expired or was used already. ${again}`,
          'expired',
        );
      // Anything else the token endpoint refuses is about this server's client registration.
      this.discovered = undefined;
      return new OidcFailure(
        502,
        'Single sign-on is misconfigured',
        `the provider refused Gantry's client (${what}). An admin should check GANTRY_OIDC_CLIENT_ID and the client secret against the provider's client registration.`,
        'misconfigured',
      );
    }
    if (error instanceof oidc.ClientError && error.code?.startsWith('OAUTH_JWT')) {
      return new OidcFailure(
        400,
        'Sign-in not verified',
        `the provider's ID token did not pass Gantry's checks (${error.message}). ${again} If it keeps happening, the server's clock may be off.`,
        'unverified',
      );
    }
    if (error instanceof oidc.ClientError && error.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') {
      return new OidcFailure(
        400,
        'Sign-in not verified',
        `the provider's answer did not match this sign-in (${error.message}). ${again}`,
        'unverified',
      );
    }
    return unreachable(this.settings.issuer, error, 'its token endpoint');
  }

  /** The discovered provider, fetched once an hour at most and again after a failure. */
  private async configuration(): Promise<oidc.Configuration> {
    if (this.discovered && Date.now() - this.discovered.at < REDISCOVER_MS) return this.discovered.config;
    this.discovering ??= this.discover().finally(() => {
      this.discovering = undefined;
    });
    return this.discovering;
  }

  private async discover(): Promise<oidc.Configuration> {
    const s = this.settings;
    let secret = s.clientSecret;
    if (s.clientSecretFile) {
      try {
        secret = (await readFile(s.clientSecretFile, 'utf8')).trim();
      } catch (error) {
        throw new OidcFailure(
          502,
          'Single sign-on is misconfigured',
          `GANTRY_OIDC_CLIENT_SECRET_FILE=${s.clientSecretFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); an admin should fix the file.`,
          'misconfigured',
        );
      }
    }
    try {
      const config = await oidc.discovery(
        new URL(s.issuer),
        s.clientId,
        secret,
        secret ? oidc.ClientSecretBasic(secret) : oidc.None(),
        {
          timeout: TIMEOUT_S,
          ...(issuerAllowsHttp(s.issuer) && { execute: [oidc.allowInsecureRequests] }),
        },
      );
      this.discovered = { config, at: Date.now() };
      return config;
    } catch (error) {
      throw unreachable(s.issuer, error, 'its discovery document');
    }
  }
}

/** The provider could not be reached or answered nonsense: 502, with the reason. */
function unreachable(issuer: string, error: unknown, what: string): OidcFailure {
  if (error instanceof OidcFailure) return error;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (error as Error).message;
  return new OidcFailure(
    502,
    'Identity provider unavailable',
    `the identity provider ${issuer} did not answer as expected at ${what} (${reason}). Try again in a moment; if it persists, an admin should check GANTRY_OIDC_ISSUER and the provider.`,
    'provider',
  );
}

/** A claim by name, or by a dotted path (`realm_access.roles`) when no claim has the whole name. */
export function claimAt(claims: Record<string, unknown>, name: string): unknown {
  if (name in claims) return claims[name];
  let at: unknown = claims;
  for (const part of name.split('.')) {
    if (at === null || typeof at !== 'object' || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** The groups claim as names: a list of strings, or a single string naming one group. */
export function groupsOf(value: unknown): string[] {
  const names = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
  return [...new Set(names.filter((v): v is string => typeof v === 'string').map((v) => v.trim()))].filter(
    (v) => v !== '',
  );
}
