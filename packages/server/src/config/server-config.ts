import { isAbsolute, resolve } from 'node:path';
import { parseRegistryAddress } from '../containers/registry.js';
import { type OidcConfig, oidcConfigFromEnv, oidcConfigProblems } from '../features/oidc/oidc-config.js';
import { type SandboxMode, sandboxModes } from '../sandbox/sandbox.js';
import { type TlsFiles, type TrustProxy, tlsFromEnv, trustProxyFromEnv } from './tls-config.js';

/** The server's registry for image artifacts (GANTRY_REGISTRY…); an app may have its own. */
export interface ServerRegistry {
  /** As configured, `host[:port][/prefix]`, for messages. */
  url: string;
  /** `host[:port]`, with a scheme when one was given. */
  host: string;
  /** Images go to `<prefix>/<app>`; empty for none. */
  prefix: string;
  /** GANTRY_REGISTRY_INSECURE=1: plain HTTP. TLS is on otherwise. */
  insecure: boolean;
  username?: string;
  password?: string;
  /** GANTRY_REGISTRY_PASSWORD_FILE: read each time it is used, so a rotated password is picked up. */
  passwordFile?: string;
}

export interface ServerConfig {
  dataDir: string;
  databaseUrl?: string;
  /**
   * GANTRY_DATABASE_SCHEMA: PostgreSQL only, the schema Gantry keeps its tables in (created when
   * missing; default the connection's search_path, usually `public`). Servers that share one
   * database work together when they name the same schema.
   */
  databaseSchema?: string;
  host: string;
  port: number;
  /** The URL hooks and the CLI use to reach this server; derived from host/port when unset. */
  publicUrl?: string;
  /** GANTRY_TLS_CERT / GANTRY_TLS_KEY: serve HTTPS (session cookies are then `Secure`). */
  tls?: TlsFiles;
  /** GANTRY_TRUST_PROXY: which proxies' X-Forwarded-For/-Proto/-Host to believe (default none). */
  trustProxy: TrustProxy;
  runnerConcurrency: number;
  defaultPollIntervalMs: number;
  /** A running build whose heartbeat is older than this belongs to a dead runner (GANTRY_STALE_AFTER_MS, 10 s). */
  staleAfterMs: number;
  /**
   * GANTRY_HOST_CLAIM_TIMEOUT_MS (30 s): how long a driver call for an environment on hosts waits for
   * the host's deploy agent to take it before it fails, saying the agent is not there.
   */
  hostClaimTimeoutMs: number;
  /**
   * GANTRY_DEPLOY_LEASE_MS (10 s): how long a server holds an environment it deploys without renewing
   * the lease; another server sharing the database takes the environment over after that.
   */
  deployLeaseMs: number;
  /** GANTRY_LEADER_RETRY_MS (2 s): how often a server that does not lead tries to take the lead. */
  leaderRetryMs: number;
  /** `builds.max_attempts` (GANTRY_BUILDS_MAX_ATTEMPTS): a build interrupted on its last attempt fails. */
  buildsMaxAttempts: number;
  logLevel: string;
  /** Build logs: the newest GANTRY_BUILD_LOGS_KEEP builds' are always kept, older ones until GANTRY_BUILD_LOGS_MAX_AGE. */
  buildLogsKeep: number;
  buildLogsMaxAgeMs: number;
  /** `--log-file`, GANTRY_LOG_FILE: server logs go to files rotated by size instead of stdout. */
  logFile?: string;
  /** GANTRY_LOG_FILE_SIZE (default 10m): a log file is rotated past this size. */
  logFileMaxBytes: number;
  /** GANTRY_LOG_FILE_KEEP (default 10) rotated files kept, none older than GANTRY_LOG_FILE_MAX_AGE (default 30d). */
  logFileKeep: number;
  logFileMaxAgeMs: number;
  /** `builds.sandbox` (GANTRY_BUILDS_SANDBOX, `--sandbox`): where build steps and deploy scripts run. */
  buildsSandbox: SandboxMode;
  /** GANTRY_BWRAP: the bubblewrap binary; default /usr/bin/bwrap, then the first on PATH. */
  bwrapPath?: string;
  /**
   * GANTRY_TOGGLE_REVISION_POLL_MS (default 1000): how often the client API re-reads toggle revisions,
   * the fallback when another server's change notification (PostgreSQL LISTEN/NOTIFY) was lost.
   */
  toggleRevisionPollMs?: number;
  /** GANTRY_SSE_MAX_PER_TOKEN (default 16): open event streams one token may hold; past it 429. */
  sseMaxPerToken: number;
  /** GANTRY_SSE_MAX_TOTAL (default 1000): open event streams in all; past it 503. */
  sseMaxTotal: number;
  /** GANTRY_SSE_MAX_BUFFER (default 1m): unsent bytes a stream may pile up before its client is dropped. */
  sseMaxBufferedBytes: number;
  /**
   * GANTRY_FRONTEND_CORS_ORIGINS (comma-separated, default `*`): browser origins that may call the
   * Frontend API (`/api/frontend`); no other route answers cross-origin requests.
   */
  frontendCorsOrigins: string[];
  /**
   * GANTRY_CONTAINER_NETWORK (`host`, the default, or `bridge`): how the container driver connects
   * containers. With `bridge` an app no longer shares the host's loopback (docs/architecture.md).
   */
  containerNetwork: 'host' | 'bridge';
  /** GANTRY_REGISTRY (`host[:port][/prefix]`) and friends: where image artifacts are pushed. */
  registry?: ServerRegistry;
  /** GANTRY_SESSION_TTL (default 12h): a console session ends this long after sign-in. */
  sessionAbsoluteMs: number;
  /** GANTRY_SESSION_IDLE (default 2h): …or after this long without a request. */
  sessionIdleMs: number;
  /** GANTRY_WEB_DIR: the console's built files; default the `@gantry/web` package's `dist`. */
  webDir?: string;
  /**
   * GANTRY_WEBHOOK_BACKOFF_MS (default 10000): the wait before a failed notification is sent again,
   * doubled at each further attempt (with jitter, at most an hour).
   */
  webhookBackoffMs: number;
  /** GANTRY_WEBHOOK_CONCURRENCY (default 8): notifications sent at once, each with its own timeout. */
  webhookConcurrency: number;
  /** GANTRY_AUDIT_RETENTION (days, default 365; 0 keeps every row): older audit rows are pruned hourly. */
  auditRetentionDays: number;
  /** GANTRY_ARTIFACTS_KEEP (default 10): the newest artifacts of each app that retention always keeps. */
  artifactsKeep: number;
  /** GANTRY_ARTIFACTS_MAX_AGE (default 14d): retention keeps every artifact younger than this. */
  artifactsMaxAgeMs: number;
  /** GANTRY_ARTIFACTS_GC (default 1): the retention policy runs at start and hourly; 0 leaves it to `gantry gc`. */
  artifactsGc: boolean;
  /** GANTRY_SECRETS_KEY_FILE: the file holding the secrets key (or keyring); default `<data-dir>/secrets.key`. */
  secretsKeyFile?: string;
  /** GANTRY_SECRETS_KEY: the secrets key itself, base64 of 32 bytes (cannot be rotated by the server). */
  secretsKey?: string;
  /** GANTRY_OIDC_ISSUER, GANTRY_OIDC_CLIENT_ID and friends: single sign-on for the console (docs/access.md). */
  oidc?: OidcConfig;
}

export interface ConfigResult {
  config: ServerConfig;
  errors: string[];
  warnings: string[];
}

function int(env: NodeJS.ProcessEnv, key: string, fallback: number, errors: string[]): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    errors.push(`${key}=${raw}: expected a whole number ≥ 0`);
    return fallback;
  }
  return n;
}

function sandboxMode(raw: string | undefined, errors: string[]): SandboxMode {
  if (raw === undefined || raw === '') return 'auto';
  if ((sandboxModes as readonly string[]).includes(raw)) return raw as SandboxMode;
  errors.push(`GANTRY_BUILDS_SANDBOX=${raw}: expected one of ${sandboxModes.join(', ')}`);
  return 'auto';
}

const AGE_UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNIT: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** An age such as `30d`, `12h`, `90m` or `45s`, in milliseconds. */
function age(env: NodeJS.ProcessEnv, key: string, fallback: number, errors: string[]): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const m = /^(\d+)([smhd])$/.exec(raw.trim());
  if (!m) {
    errors.push(`${key}=${raw}: expected a whole number and a unit (s, m, h, d), e.g. 30d`);
    return fallback;
  }
  return Number(m[1]) * AGE_UNIT_MS[m[2]!]!;
}

/** A size such as `10m`, `512k`, `1g` or a number of bytes. */
function size(env: NodeJS.ProcessEnv, key: string, fallback: number, errors: string[]): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const m = /^(\d+)([kmg]?)b?$/i.exec(raw.trim());
  if (!m || Number(m[1]) === 0) {
    errors.push(`${key}=${raw}: expected a size such as 10m, 512k or 1g`);
    return fallback;
  }
  return Number(m[1]) * SIZE_UNIT[m[2]!.toLowerCase()]!;
}

function flag(env: NodeJS.ProcessEnv, key: string, errors: string[]): boolean {
  const raw = env[key]?.trim().toLowerCase();
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  errors.push(`${key}=${env[key]}: expected 1 or 0`);
  return false;
}

/** GANTRY_REGISTRY, GANTRY_REGISTRY_INSECURE, _USERNAME, _PASSWORD or _PASSWORD_FILE. */
function registry(env: NodeJS.ProcessEnv, errors: string[]): ServerRegistry | undefined {
  const url = env.GANTRY_REGISTRY?.trim();
  const username = env.GANTRY_REGISTRY_USERNAME || undefined;
  const password = env.GANTRY_REGISTRY_PASSWORD || undefined;
  const passwordFile = env.GANTRY_REGISTRY_PASSWORD_FILE || undefined;
  const insecure = flag(env, 'GANTRY_REGISTRY_INSECURE', errors);
  if (!url) {
    if (username || password || passwordFile)
      errors.push(
        'GANTRY_REGISTRY_USERNAME/PASSWORD are set but GANTRY_REGISTRY is not: set the registry too',
      );
    return undefined;
  }
  let address: { host: string; prefix: string };
  try {
    address = parseRegistryAddress(url);
  } catch (e) {
    errors.push(`GANTRY_REGISTRY=${url}: ${(e as Error).message}`);
    return undefined;
  }
  if (password && passwordFile)
    errors.push('GANTRY_REGISTRY_PASSWORD and GANTRY_REGISTRY_PASSWORD_FILE are both set: keep one');
  if ((password || passwordFile) && !username)
    errors.push('a registry password is set but GANTRY_REGISTRY_USERNAME is not: set the user name too');
  if (passwordFile && !isAbsolute(passwordFile))
    errors.push(`GANTRY_REGISTRY_PASSWORD_FILE=${passwordFile}: expected an absolute path`);
  return {
    url,
    ...address,
    insecure,
    ...(username && { username }),
    ...(password && { password }),
    ...(passwordFile && { passwordFile }),
  };
}

/** The only reader of process.env for the server. Flags from the CLI override the environment. */
export function loadServerConfig(
  overrides: Partial<ServerConfig> = {},
  env: NodeJS.ProcessEnv = process.env,
): ConfigResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const databaseUrl = overrides.databaseUrl ?? (env.GANTRY_DATABASE_URL || undefined);
  const databaseSchema = overrides.databaseSchema ?? (env.GANTRY_DATABASE_SCHEMA || undefined);
  if (databaseSchema && !/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema)) {
    errors.push(
      `GANTRY_DATABASE_SCHEMA=${databaseSchema}: expected a lowercase PostgreSQL name (letters, digits, _; 63 at most)`,
    );
  }
  if (databaseSchema && !databaseUrl?.startsWith('postgres')) {
    errors.push('GANTRY_DATABASE_SCHEMA is for PostgreSQL: set GANTRY_DATABASE_URL=postgres://… too');
  }
  if (databaseUrl && !/^(postgres(ql)?:\/\/|sqlite:)/.test(databaseUrl)) {
    errors.push(`GANTRY_DATABASE_URL=${databaseUrl}: expected postgres://… or sqlite:<file>`);
  }
  const config: ServerConfig = {
    dataDir: resolve(overrides.dataDir ?? env.GANTRY_DATA_DIR ?? '.gantry'),
    databaseUrl,
    databaseSchema,
    host: overrides.host ?? env.GANTRY_HOST ?? '127.0.0.1',
    port: overrides.port ?? int(env, 'GANTRY_PORT', 7420, errors),
    publicUrl: overrides.publicUrl ?? env.GANTRY_PUBLIC_URL,
    tls: 'tls' in overrides ? overrides.tls : tlsFromEnv(env, errors),
    trustProxy: overrides.trustProxy ?? trustProxyFromEnv(env, errors),
    runnerConcurrency: overrides.runnerConcurrency ?? int(env, 'GANTRY_RUNNER_CONCURRENCY', 1, errors),
    defaultPollIntervalMs:
      overrides.defaultPollIntervalMs ?? int(env, 'GANTRY_POLL_INTERVAL_MS', 30_000, errors),
    staleAfterMs: overrides.staleAfterMs ?? int(env, 'GANTRY_STALE_AFTER_MS', 10_000, errors),
    hostClaimTimeoutMs:
      overrides.hostClaimTimeoutMs ?? int(env, 'GANTRY_HOST_CLAIM_TIMEOUT_MS', 30_000, errors),
    deployLeaseMs: overrides.deployLeaseMs ?? int(env, 'GANTRY_DEPLOY_LEASE_MS', 10_000, errors),
    leaderRetryMs: overrides.leaderRetryMs ?? int(env, 'GANTRY_LEADER_RETRY_MS', 2_000, errors),
    buildsMaxAttempts: overrides.buildsMaxAttempts ?? int(env, 'GANTRY_BUILDS_MAX_ATTEMPTS', 3, errors),
    logLevel: overrides.logLevel ?? env.GANTRY_LOG_LEVEL ?? 'info',
    buildLogsKeep: overrides.buildLogsKeep ?? int(env, 'GANTRY_BUILD_LOGS_KEEP', 500, errors),
    buildLogsMaxAgeMs:
      overrides.buildLogsMaxAgeMs ?? age(env, 'GANTRY_BUILD_LOGS_MAX_AGE', 30 * 86_400_000, errors),
    logFile: overrides.logFile ?? (env.GANTRY_LOG_FILE ? resolve(env.GANTRY_LOG_FILE) : undefined),
    logFileMaxBytes: overrides.logFileMaxBytes ?? size(env, 'GANTRY_LOG_FILE_SIZE', 10 * 1024 ** 2, errors),
    logFileKeep: overrides.logFileKeep ?? int(env, 'GANTRY_LOG_FILE_KEEP', 10, errors),
    logFileMaxAgeMs:
      overrides.logFileMaxAgeMs ?? age(env, 'GANTRY_LOG_FILE_MAX_AGE', 30 * 86_400_000, errors),
    buildsSandbox: overrides.buildsSandbox ?? sandboxMode(env.GANTRY_BUILDS_SANDBOX, errors),
    bwrapPath: overrides.bwrapPath ?? (env.GANTRY_BWRAP || undefined),
    toggleRevisionPollMs:
      overrides.toggleRevisionPollMs ?? int(env, 'GANTRY_TOGGLE_REVISION_POLL_MS', 1000, errors),
    sseMaxPerToken: overrides.sseMaxPerToken ?? int(env, 'GANTRY_SSE_MAX_PER_TOKEN', 16, errors),
    sseMaxTotal: overrides.sseMaxTotal ?? int(env, 'GANTRY_SSE_MAX_TOTAL', 1000, errors),
    sseMaxBufferedBytes:
      overrides.sseMaxBufferedBytes ?? size(env, 'GANTRY_SSE_MAX_BUFFER', 1024 ** 2, errors),
    frontendCorsOrigins:
      overrides.frontendCorsOrigins ??
      (env.GANTRY_FRONTEND_CORS_ORIGINS ?? '*')
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o !== ''),
    registry: 'registry' in overrides ? overrides.registry : registry(env, errors),
    containerNetwork:
      overrides.containerNetwork ?? (env.GANTRY_CONTAINER_NETWORK as 'host' | 'bridge' | undefined) ?? 'host',
    sessionAbsoluteMs: overrides.sessionAbsoluteMs ?? age(env, 'GANTRY_SESSION_TTL', 12 * 3_600_000, errors),
    sessionIdleMs: overrides.sessionIdleMs ?? age(env, 'GANTRY_SESSION_IDLE', 2 * 3_600_000, errors),
    webDir: overrides.webDir ?? (env.GANTRY_WEB_DIR ? resolve(env.GANTRY_WEB_DIR) : undefined),
    webhookBackoffMs: overrides.webhookBackoffMs ?? int(env, 'GANTRY_WEBHOOK_BACKOFF_MS', 10_000, errors),
    webhookConcurrency: overrides.webhookConcurrency ?? int(env, 'GANTRY_WEBHOOK_CONCURRENCY', 8, errors),
    auditRetentionDays: overrides.auditRetentionDays ?? int(env, 'GANTRY_AUDIT_RETENTION', 365, errors),
    artifactsKeep: overrides.artifactsKeep ?? int(env, 'GANTRY_ARTIFACTS_KEEP', 10, errors),
    artifactsMaxAgeMs:
      overrides.artifactsMaxAgeMs ?? age(env, 'GANTRY_ARTIFACTS_MAX_AGE', 14 * 86_400_000, errors),
    artifactsGc:
      overrides.artifactsGc ?? (env.GANTRY_ARTIFACTS_GC ? flag(env, 'GANTRY_ARTIFACTS_GC', errors) : true),
    secretsKeyFile:
      overrides.secretsKeyFile ??
      (env.GANTRY_SECRETS_KEY_FILE ? resolve(env.GANTRY_SECRETS_KEY_FILE) : undefined),
    secretsKey: overrides.secretsKey ?? (env.GANTRY_SECRETS_KEY?.trim() || undefined),
    oidc: 'oidc' in overrides ? overrides.oidc : oidcConfigFromEnv(env, errors),
  };
  if ('oidc' in overrides && overrides.oidc) errors.push(...oidcConfigProblems(overrides.oidc));
  // Never echo the key itself in an error.
  if (config.secretsKey && Buffer.from(config.secretsKey, 'base64').length !== 32)
    errors.push(
      'GANTRY_SECRETS_KEY: expected the base64 of 32 random bytes, e.g. from `openssl rand -base64 32`',
    );
  if (config.secretsKey && config.secretsKeyFile)
    errors.push('GANTRY_SECRETS_KEY and GANTRY_SECRETS_KEY_FILE are both set: keep one');
  if (config.containerNetwork !== 'host' && config.containerNetwork !== 'bridge') {
    errors.push(`GANTRY_CONTAINER_NETWORK=${config.containerNetwork}: expected host or bridge`);
  }
  if (!sandboxModes.includes(config.buildsSandbox)) {
    errors.push(`--sandbox ${config.buildsSandbox}: expected one of ${sandboxModes.join(', ')}`);
  }
  if (config.webhookConcurrency < 1) {
    errors.push(`GANTRY_WEBHOOK_CONCURRENCY=${config.webhookConcurrency}: expected at least 1`);
  }
  if (config.deployLeaseMs < 1_000) {
    errors.push(
      `GANTRY_DEPLOY_LEASE_MS=${config.deployLeaseMs}: expected at least 1000 (a lease is renewed every third of it)`,
    );
  }
  if (config.buildsMaxAttempts < 1) {
    errors.push(`GANTRY_BUILDS_MAX_ATTEMPTS=${config.buildsMaxAttempts}: expected at least 1`);
  }
  if (config.host !== '127.0.0.1' && config.host !== 'localhost') {
    warnings.push(`binding ${config.host}: the API is reachable from other machines; keep tokens secret`);
  }
  return { config, errors, warnings };
}
