/**
 * The part of the OCI Distribution API Gantry needs: does a manifest exist, what is its digest and
 * size. Works with any registry that speaks it (distribution, Harbor, GHCR, ECR…), with basic or
 * bearer-token auth. TLS is on unless the registry is marked insecure.
 */
import { createHash } from 'node:crypto';

export interface RegistryConfig {
  /** `host[:port]`, optionally with a scheme (`https://…`); no path. */
  host: string;
  /** Plain HTTP (and unverified TLS for the engine) — only when asked. */
  insecure: boolean;
  auth?: { username: string; password: string };
  /** Where its credentials are set, for a 401/403 (default: the server's GANTRY_REGISTRY_* variables). */
  credentialsHint?: string;
}

export const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

export interface ManifestInfo {
  digest: string;
  mediaType: string;
  /** Config plus layers, in bytes (compressed, as stored). */
  size: number;
}

/** A registry address as configured: `host[:port][/prefix]`, optionally with `https://` or `http://`. */
export interface RegistryAddress {
  /** `host[:port]`, with the scheme when one was given. */
  host: string;
  /** The repository prefix, e.g. `team` (images go to `<prefix>/<app>`); empty for none. */
  prefix: string;
}

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const PREFIX = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;

/**
 * Parses `host[:port][/prefix]` (as GANTRY_REGISTRY and `gantry app registry` take it), or throws an
 * Error that says what was expected.
 */
export function parseRegistryAddress(input: string): RegistryAddress {
  const raw = input.trim();
  const scheme = /^(https?):\/\//i.exec(raw)?.[0] ?? '';
  const rest = raw.slice(scheme.length).replace(/\/+$/, '');
  const [host = '', ...path] = rest.split('/');
  const prefix = path.join('/');
  const expected = 'expected host[:port][/prefix], e.g. registry.example.com/team or 127.0.0.1:5000';
  if (!HOST.test(host))
    throw new Error(`registry ${JSON.stringify(input)}: "${host}" is not a host[:port]; ${expected}`);
  if (prefix && !PREFIX.test(prefix)) {
    throw new Error(
      `registry ${JSON.stringify(input)}: the prefix "${prefix}" is not a repository path (lowercase letters, digits, . _ - and /); ${expected}`,
    );
  }
  return { host: `${scheme.toLowerCase()}${host}`, prefix };
}

/** `host[:port]` without a scheme: how image references name the registry. */
export function registryName(host: string): string {
  return host.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
}

export class RegistryClient {
  private token: string | null = null;

  constructor(
    readonly config: RegistryConfig,
    private readonly timeoutMs = 15_000,
  ) {}

  get base(): string {
    const h = this.config.host.replace(/\/+$/, '');
    if (/^[a-z]+:\/\//.test(h)) return h;
    return `${this.config.insecure ? 'http' : 'https'}://${h}`;
  }

  /** The manifest's digest, or null when the registry does not have it (404). */
  async manifestDigest(repository: string, reference: string): Promise<string | null> {
    const res = await this.request('HEAD', `/v2/${repository}/manifests/${reference}`, repository);
    if (res.status === 404) return null;
    await this.expectOk(res, `${repository}:${reference}`);
    const header = res.headers.get('docker-content-digest');
    if (header) return header;
    return (await this.manifest(repository, reference))?.digest ?? null;
  }

  /** Digest, media type and stored size of an image; null when the registry does not have it. */
  async manifest(repository: string, reference: string): Promise<ManifestInfo | null> {
    const res = await this.request('GET', `/v2/${repository}/manifests/${reference}`, repository);
    if (res.status === 404) return null;
    await this.expectOk(res, `${repository}:${reference}`);
    const body = Buffer.from(await res.arrayBuffer());
    const digest =
      res.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const doc = JSON.parse(body.toString('utf8')) as {
      mediaType?: string;
      config?: { size?: number };
      layers?: { size?: number }[];
      manifests?: { size?: number }[];
    };
    const parts = [doc.config, ...(doc.layers ?? []), ...(doc.manifests ?? [])];
    const size = parts.reduce((sum, p) => sum + (p?.size ?? 0), 0);
    return { digest, mediaType: doc.mediaType ?? res.headers.get('content-type') ?? '', size };
  }

  /**
   * Deletes a manifest by digest (DELETE /v2/<name>/manifests/<digest>); the registry drops the tags
   * that point at it and frees the layers at its own garbage collection. False when it did not have
   * it (404); a RegistryError otherwise, with status 405 when the registry does not allow deletes.
   */
  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    const res = await this.request('DELETE', `/v2/${repository}/manifests/${digest}`, repository);
    if (res.status === 404) return false;
    await this.expectOk(res, `deleting ${repository}@${digest}`);
    return true;
  }

  /** Throws a RegistryError with the registry's own reason when it cannot be reached or refuses us. */
  async ping(): Promise<void> {
    const res = await this.request('GET', '/v2/', null);
    await this.expectOk(res, 'the API root /v2/');
  }

  private async expectOk(res: Response, what: string): Promise<void> {
    if (res.ok) return;
    const text = await res.text().catch(() => '');
    let reason = text.slice(0, 300);
    try {
      const errors = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors;
      if (errors?.length)
        reason = errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    } catch {}
    const hint =
      res.status === 401 || res.status === 403
        ? ` (check the registry credentials: ${this.config.credentialsHint ?? 'GANTRY_REGISTRY_USERNAME and GANTRY_REGISTRY_PASSWORD or _PASSWORD_FILE'})`
        : '';
    throw new RegistryError(
      `registry ${registryName(this.config.host)} answered ${res.status} for ${what}${reason ? `: ${reason}` : ''}${hint}`,
      res.status,
    );
  }

  private async request(method: string, path: string, repository: string | null): Promise<Response> {
    const send = (authorization?: string) =>
      fetch(`${this.base}${path}`, {
        method,
        headers: { accept: MANIFEST_TYPES.join(', '), ...(authorization && { authorization }) },
        signal: AbortSignal.timeout(this.timeoutMs),
      }).catch((err: unknown) => {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        const why = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
        throw new RegistryError(
          `registry ${registryName(this.config.host)} is unreachable at ${this.base} (${why}); is it running, and is the address right?${this.config.insecure ? '' : ' (TLS is on; mark a plain-HTTP registry insecure)'}`,
        );
      });
    let res = await send(this.token ?? this.basic());
    if (res.status !== 401) return res;
    const challenge = res.headers.get('www-authenticate') ?? '';
    await res.arrayBuffer().catch(() => undefined);
    if (/^bearer/i.test(challenge)) {
      this.token = await this.fetchToken(challenge, repository);
      res = await send(this.token);
    } else if (/^basic/i.test(challenge) && this.config.auth && !this.token) {
      res = await send(this.basic());
    }
    return res;
  }

  private basic(): string | undefined {
    const a = this.config.auth;
    return a ? `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}` : undefined;
  }

  private async fetchToken(challenge: string, repository: string | null): Promise<string> {
    const params = Object.fromEntries(
      [...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]),
    );
    if (!params.realm)
      throw new RegistryError(`registry ${this.config.host} asked for a token without a realm`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    const scope = params.scope ?? (repository ? `repository:${repository}:pull` : undefined);
    if (scope) url.searchParams.set('scope', scope);
    const res = await fetch(url, {
      headers: this.basic() ? { authorization: this.basic()! } : {},
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) {
      throw new RegistryError(
        `registry ${registryName(this.config.host)} refused a token (${res.status}); check the registry credentials`,
        res.status,
      );
    }
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token)
      throw new RegistryError(`registry ${this.config.host} answered a token request without a token`);
    return `Bearer ${token}`;
  }
}

/** Whether asking again may get an answer: the registry did not answer, or answered 5xx or 429. */
export function transientRegistryError(e: unknown): boolean {
  if (!(e instanceof RegistryError)) return false;
  return e.status === undefined || e.status >= 500 || e.status === 429;
}

/**
 * Runs `read`, and again after each of `delaysMs` while the registry has a {@link
 * transientRegistryError}; `onRetry` hears each failure before the wait. The last error is thrown.
 */
export async function withRegistryRetries<T>(
  read: () => Promise<T>,
  delaysMs: readonly number[],
  onRetry?: (e: Error, waitMs: number, attempt: number) => void | Promise<void>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (e) {
      const wait = delaysMs[attempt - 1];
      if (wait === undefined || !transientRegistryError(e)) throw e;
      await onRetry?.(e as Error, wait, attempt);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
