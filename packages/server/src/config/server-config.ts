import { resolve } from 'node:path';

export interface ServerConfig {
  dataDir: string;
  databaseUrl?: string;
  host: string;
  port: number;
  /** The URL hooks and the CLI use to reach this server; derived from host/port when unset. */
  publicUrl?: string;
  runnerConcurrency: number;
  defaultPollIntervalMs: number;
  /** A running build whose heartbeat is older than this belongs to a dead runner. */
  staleAfterMs: number;
  logLevel: string;
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

/** The only reader of process.env for the server. Flags from the CLI override the environment. */
export function loadServerConfig(
  overrides: Partial<ServerConfig> = {},
  env: NodeJS.ProcessEnv = process.env,
): ConfigResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const databaseUrl = overrides.databaseUrl ?? (env.GANTRY_DATABASE_URL || undefined);
  if (databaseUrl && !/^(postgres(ql)?:\/\/|sqlite:)/.test(databaseUrl)) {
    errors.push(`GANTRY_DATABASE_URL=${databaseUrl}: expected postgres://… or sqlite:<file>`);
  }
  const config: ServerConfig = {
    dataDir: resolve(overrides.dataDir ?? env.GANTRY_DATA_DIR ?? '.gantry'),
    databaseUrl,
    host: overrides.host ?? env.GANTRY_HOST ?? '127.0.0.1',
    port: overrides.port ?? int(env, 'GANTRY_PORT', 7420, errors),
    publicUrl: overrides.publicUrl ?? env.GANTRY_PUBLIC_URL,
    runnerConcurrency: overrides.runnerConcurrency ?? int(env, 'GANTRY_RUNNER_CONCURRENCY', 1, errors),
    defaultPollIntervalMs:
      overrides.defaultPollIntervalMs ?? int(env, 'GANTRY_POLL_INTERVAL_MS', 30_000, errors),
    staleAfterMs: overrides.staleAfterMs ?? int(env, 'GANTRY_STALE_AFTER_MS', 30_000, errors),
    logLevel: overrides.logLevel ?? env.GANTRY_LOG_LEVEL ?? 'info',
  };
  if (config.host !== '127.0.0.1' && config.host !== 'localhost') {
    warnings.push(`binding ${config.host}: the API is reachable from other machines; keep tokens secret`);
  }
  return { config, errors, warnings };
}
