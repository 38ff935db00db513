import type { EnvironmentSpec, Release } from '@gantry/driver-api';

/** Labels on every container the driver creates; adoption after a restart finds them by these. */
export const LABEL = {
  app: 'org.gantry.app',
  env: 'org.gantry.env',
  sha: 'org.gantry.sha',
  deployment: 'org.gantry.deployment',
  digest: 'org.gantry.digest',
  /** The environment's workdir: two Gantry data dirs on one engine never touch each other's containers. */
  workdir: 'org.gantry.workdir',
  /** The host port the app listens on (its `run.port_env`), so a container can be adopted from labels alone. */
  port: 'org.gantry.port',
  revision: 'org.opencontainers.image.revision',
} as const;

export function containerLabels(
  release: Release,
  digest: string,
  workdir: string,
  port: number,
): Record<string, string> {
  return {
    [LABEL.app]: release.env.app,
    [LABEL.env]: release.env.name,
    [LABEL.sha]: release.sha,
    [LABEL.deployment]: release.deploymentId,
    [LABEL.digest]: digest,
    [LABEL.workdir]: workdir,
    [LABEL.port]: String(port),
    [LABEL.revision]: release.sha,
  };
}

/** The label filter (Docker API `filters`) for every container of one environment of this Gantry. */
export function environmentFilter(env: EnvironmentSpec, workdir: string): string {
  return JSON.stringify({
    label: [`${LABEL.app}=${env.app}`, `${LABEL.env}=${env.name}`, `${LABEL.workdir}=${workdir}`],
  });
}

/** `gantry-<app>-<env>-<sha12>-<n>`, reduced to what container names allow. */
export function containerName(env: EnvironmentSpec, sha: string, n: number): string {
  const part = (s: string) => s.replace(/[^a-zA-Z0-9_.-]+/g, '-').replace(/^[-.]+/, '') || 'x';
  return `gantry-${part(env.app)}-${part(env.name)}-${part(sha.slice(0, 12))}-${n}`;
}
