/**
 * A real OpenID Connect provider for the tests (oidc-provider), on a free loopback port, with one
 * confidential client. Who signs in is chosen by the test (`signInAs`): the provider's login
 * interaction is answered at once for that account, and consent is given to the first-party client.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

export interface TestAccount {
  sub: string;
  preferred_username?: string;
  email?: string;
  name?: string;
  groups?: string[];
}

export interface IdentityProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Registers the client's redirect URI and starts answering (Gantry's URL is known only once it listens). */
  start(redirectUri: string): void;
  /** The account the next sign-in logs in as. */
  signInAs(account: TestAccount): void;
  /** How long the next authorization codes live, in seconds (default 60). */
  codeTtlS: number;
  close(): Promise<void>;
}

export async function listenIdentityProvider(): Promise<IdentityProvider> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server: Server = createServer((req, res) => {
    if (handler) return handler(req, res);
    res.statusCode = 503;
    res.end('not started');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const accounts = new Map<string, TestAccount>();
  let next: TestAccount | undefined;
  const clientId = 'gantry';
  const clientSecret = randomBytes(24).toString('base64url');

  const idp: IdentityProvider = {
    issuer,
    clientId,
    clientSecret,
    codeTtlS: 60,
    signInAs(account) {
      accounts.set(account.sub, account);
      next = account;
    },
    start(redirectUri) {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: [redirectUri],
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        ],
        jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test', use: 'sig', alg: 'RS256' }] },
        cookies: { keys: [randomBytes(32).toString('hex')] },
        claims: {
          openid: ['sub'],
          profile: ['name', 'preferred_username'],
          email: ['email'],
          groups: ['groups'],
        },
        findAccount: (_ctx: unknown, sub: string) => {
          const account = accounts.get(sub);
          if (!account) return undefined;
          return { accountId: sub, claims: () => ({ ...account }) };
        },
        // The first-party client needs no consent screen: a grant for what it asks is made here.
        loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
          const grant = new ctx.oidc.provider.Grant({
            clientId: ctx.oidc.client!.clientId,
            accountId: ctx.oidc.session!.accountId!,
          });
          grant.addOIDCScope('openid profile email groups');
          await grant.save();
          return grant;
        },
        ttl: {
          AuthorizationCode: () => idp.codeTtlS,
          AccessToken: 600,
          IdToken: 600,
          Grant: 600,
          Interaction: 600,
          Session: 600,
        },
        features: { devInteractions: { enabled: false } },
        interactions: {
          url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
        },
      });
      const oidcHandler = provider.callback();
      handler = (req, res) => {
        if (!req.url?.startsWith('/interaction/')) return oidcHandler(req, res);
        // The login screen, answered for the account the test chose.
        void (async () => {
          try {
            await provider.interactionDetails(req, res);
            if (!next) throw new Error('the test chose no account (signInAs)');
            await provider.interactionFinished(
              req,
              res,
              { login: { accountId: next.sub } },
              { mergeWithLastSubmission: false },
            );
          } catch (error) {
            res.statusCode = 500;
            res.end(String(error));
          }
        })();
      };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return idp;
}

/** A browser's cookies and redirects, enough for a sign-in across two origins. */
export class TestBrowser {
  private readonly jars = new Map<string, Map<string, string>>();

  cookie(origin: string, name: string): string | undefined {
    return this.jars.get(new URL(origin).host)?.get(name);
  }

  /** One request, no redirect followed; its Set-Cookie headers land in the jar. */
  async get(url: string, headers: Record<string, string> = {}): Promise<Response> {
    const host = new URL(url).host;
    const jar = this.jars.get(host) ?? new Map<string, string>();
    this.jars.set(host, jar);
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, {
      redirect: 'manual',
      headers: { ...headers, ...(cookie ? { cookie } : {}) },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (expired) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }

  /** Follows redirects from `url` until `stop` says so of the next address (or an answer is not a redirect). */
  async follow(url: string, stop: (next: URL) => boolean): Promise<{ url: string; res: Response }> {
    let at = url;
    for (let hops = 0; hops < 20; hops++) {
      const res = await this.get(at);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { url: at, res };
      await res.arrayBuffer();
      const next = new URL(location, at);
      if (stop(next)) return { url: next.href, res };
      at = next.href;
    }
    throw new Error(`more than 20 redirects from ${url}`);
  }
}
