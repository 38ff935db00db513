import { readFile } from 'node:fs/promises';
import type { AppRegistry } from '@gantry/contracts';
import type { ServerRegistry } from '../../config/server-config.js';
import {
  parseRegistryAddress,
  RegistryClient,
  type RegistryConfig,
  RegistryError,
  registryName,
} from '../../containers/registry.js';
import type { AppRecord } from '../apps/app-store.js';

/** An app's registry with its credentials read: where its images go and how to log in. */
export interface ResolvedRegistry {
  /** How messages name it: `the server's registry 127.0.0.1:5000 (GANTRY_REGISTRY)` or the app's own. */
  label: string;
  /** `host[:port]`, as image references name it. */
  name: string;
  prefix: string;
  config: RegistryConfig;
  /** `<prefix>/<app>`, or `<prefix>/<build.image.repository>` when gantry.yaml names one. */
  repository(app: string, override?: string): string;
  client(): RegistryClient;
}

export class NoRegistry extends Error {}

/**
 * Finds the registry of an app's images: the app's own (set by an admin), else the server's
 * (GANTRY_REGISTRY). Passwords named by a file are read when used; by an environment variable, from
 * the server's environment given at start.
 */
export class ImageRegistries {
  constructor(
    private readonly server: ServerRegistry | undefined,
    private readonly env: NodeJS.ProcessEnv = {},
  ) {}

  /** The registry to push the app's images to, or NoRegistry saying how to configure one. */
  async forApp(app: Pick<AppRecord, 'name' | 'registry'>): Promise<ResolvedRegistry> {
    if (app.registry) return this.fromApp(app.name, app.registry);
    if (this.server) return this.fromServer(this.server);
    throw new NoRegistry(
      `build.image needs a registry to push to: set GANTRY_REGISTRY (host[:port][/prefix]) for the server, or give the app one with \`gantry app registry ${app.name} <host[:port][/prefix]>\``,
    );
  }

  /**
   * The registry an image reference lives in, with credentials when the app's or the server's
   * registry is that one; without credentials (and TLS on) otherwise.
   */
  async forReference(
    app: Pick<AppRecord, 'name' | 'registry'>,
    reference: string,
  ): Promise<ResolvedRegistry> {
    const host = referenceParts(reference).registry;
    const candidates: (() => Promise<ResolvedRegistry>)[] = [];
    const own = app.registry;
    if (own) candidates.push(() => this.fromApp(app.name, own));
    const server = this.server;
    if (server) candidates.push(() => this.fromServer(server));
    for (const candidate of candidates) {
      const found = await candidate();
      if (found.name === host) return found;
    }
    return resolved(`registry ${host}`, { host, prefix: '' }, { host, insecure: false });
  }

  private async fromApp(app: string, r: AppRegistry): Promise<ResolvedRegistry> {
    const address = parseRegistryAddress(r.url);
    let password: string | undefined;
    if (r.passwordEnv) {
      password = this.env[r.passwordEnv];
      if (password === undefined)
        throw new RegistryError(
          `the registry password of app ${app} is to come from the environment variable ${r.passwordEnv}, which the server does not have; set it where gantry server starts, or change it with \`gantry app registry ${app}\``,
        );
    } else if (r.passwordFile) {
      password = await readPassword(r.passwordFile, `app ${app}'s registry password file`);
    }
    return resolved(`app ${app}'s registry ${r.url}`, address, {
      host: address.host,
      insecure: r.insecure,
      credentialsHint: `the app's own registry, see \`gantry app registry ${app}\``,
      ...(r.username && password !== undefined && { auth: { username: r.username, password } }),
    });
  }

  private async fromServer(s: ServerRegistry): Promise<ResolvedRegistry> {
    const password = s.passwordFile
      ? await readPassword(s.passwordFile, 'GANTRY_REGISTRY_PASSWORD_FILE')
      : s.password;
    return resolved(`the server's registry ${s.url} (GANTRY_REGISTRY)`, s, {
      host: s.host,
      insecure: s.insecure,
      ...(s.username && password !== undefined && { auth: { username: s.username, password } }),
    });
  }
}

function resolved(
  label: string,
  address: { host: string; prefix: string },
  config: RegistryConfig,
): ResolvedRegistry {
  return {
    label,
    name: registryName(address.host),
    prefix: address.prefix,
    config,
    repository: (app, override) => [address.prefix, override ?? app].filter(Boolean).join('/'),
    client: () => new RegistryClient(config),
  };
}

async function readPassword(file: string, what: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  } catch (e) {
    throw new RegistryError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
}

/** `<registry>/<repository>@sha256:…` in its parts. */
export function referenceParts(reference: string): { registry: string; repository: string; digest: string } {
  const at = reference.lastIndexOf('@');
  const name = at < 0 ? reference : reference.slice(0, at);
  const slash = name.indexOf('/');
  return {
    registry: name.slice(0, slash),
    repository: name.slice(slash + 1),
    digest: at < 0 ? '' : reference.slice(at + 1),
  };
}
