import type { EnvironmentSpec } from '@gantry/driver-api';
import type { Supervisor } from './supervisor.js';

/** What the parts of the process driver share: settled options and the one supervisor. */
export interface DriverKit {
  nodePath: string;
  /** Where the environments' proxies listen (a deploy agent's `--listen`); 127.0.0.1 on a server. */
  listenHost: string;
  baseEnv: NodeJS.ProcessEnv;
  keepReleases: number;
  drainTimeoutMs: number;
  supervisor: Supervisor;
}

export function requireRun(env: EnvironmentSpec): NonNullable<EnvironmentSpec['run']> {
  if (!env.run) {
    throw new Error(
      `environment ${env.name} uses the process driver but gantry.yaml has no run.command; add run: { command, port_env, health }`,
    );
  }
  return env.run;
}

/** The SHA names a folder, so it must not be able to leave `releases/`. */
export function assertSafeSha(sha: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(sha)) throw new Error(`"${sha}" is not a valid commit SHA`);
}

export function envUrl(env: EnvironmentSpec, host = '127.0.0.1'): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${env.port}`;
}
