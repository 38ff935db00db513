import { createServer } from 'node:net';
import type { GantryEnvironment, GantryYaml } from '@gantry/contracts';
import type { EnvironmentSpec } from '@gantry/driver-api';

/** Where environments without a `port` in gantry.yaml are given one, and kept. */
export const FIRST_ENVIRONMENT_PORT = 7500;

export function environmentOf(config: GantryYaml | undefined, env: string): GantryEnvironment | undefined {
  return config?.environments?.[env];
}

/** The agents' hosts an environment lives on (gantry.yaml `host` or `hosts`); undefined on the server. */
export function hostsOf(env: GantryEnvironment | undefined): string[] | undefined {
  return env?.hosts ?? (env?.host === undefined ? undefined : [env.host]);
}

export function environmentNames(config: GantryYaml | undefined): string[] {
  return Object.keys(config?.environments ?? {});
}

/** The environment as a driver sees it: config values as strings, defaults applied. */
export function toEnvironmentSpec(
  app: string,
  name: string,
  env: GantryEnvironment,
  config: GantryYaml,
  port: number,
): EnvironmentSpec {
  return {
    app,
    name,
    port: env.port ?? port,
    config: Object.fromEntries(Object.entries(env.config ?? {}).map(([k, v]) => [k, String(v)])),
    standby: env.standby ?? 1,
    ...(hostsOf(env) && { hosts: hostsOf(env) }),
    run: runSpec(config),
    commands: { deploy: env.deploy, health: env.health, stop: env.stop },
  };
}

/**
 * How the app starts: `run` as written; an image built from a Dockerfile needs no run section (its
 * own CMD runs, on PORT, health /healthz), so it gets the defaults with no command.
 */
function runSpec(config: GantryYaml): EnvironmentSpec['run'] {
  const run = config.run;
  if (!run && !config.build.image) return undefined;
  const limits = run?.limits && {
    ...(run.limits.memory !== undefined && { memoryBytes: run.limits.memory }),
    ...(run.limits.cpus !== undefined && { cpus: run.limits.cpus }),
  };
  return {
    command: run?.command ?? '',
    portEnv: run?.port_env ?? 'PORT',
    health: { path: run?.health?.path ?? '/healthz', timeoutMs: run?.health?.timeout ?? 30_000 },
    ...(limits && { limits }),
  };
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** The first port from FIRST_ENVIRONMENT_PORT that no environment has and nothing listens on. */
export async function allocatePort(taken: number[], from = FIRST_ENVIRONMENT_PORT): Promise<number> {
  const used = new Set(taken);
  for (let port = from; port < from + 2000; port++) {
    if (!used.has(port) && (await portIsFree(port))) return port;
  }
  throw new Error(
    `no free port between ${from} and ${from + 2000} for a new environment; set port in gantry.yaml`,
  );
}
