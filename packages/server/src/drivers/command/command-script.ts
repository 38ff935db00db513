import { appendFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DriverContext, EnvironmentSpec } from '@gantry/driver-api';
import { GantryError } from '../../errors.js';
import { runStep, type StepOutcome } from '../../features/builds/run-step.js';
import { SecretMasker } from '../../features/secrets/secret-masker.js';
import type { Sandbox } from '../../sandbox/host-sandbox.js';
import { allowlistedEnv } from '../../sandbox/sandbox.js';
import { ownFile } from './command-state.js';

export type ScriptName = 'deploy' | 'health' | 'stop';

/** The release a script acts on, as its GANTRY_* variables describe it. */
export interface ScriptRelease {
  sha: string;
  digest: string;
  /** The tarball's path, or the image reference (`registry/repo@sha256:…`). */
  artifact: string;
  kind?: 'tarball' | 'image';
}

export interface ScriptRun {
  name: ScriptName;
  script: string;
  env: EnvironmentSpec;
  release: ScriptRelease | null;
  ctx: DriverContext;
  timeoutMs: number;
  /** Where the script runs; without one it still gets only the allowlisted environment. */
  sandbox?: Sandbox;
}

/** A script that exited non-zero; `details` carries the exit code and the last lines it wrote. */
export class ScriptFailed extends GantryError {
  constructor(
    readonly script: ScriptName,
    readonly exitCode: number | null,
    readonly tail: string,
    why = `exited with code ${exitCode}`,
  ) {
    super(`the ${script} script ${why}${tail ? `; its last lines:\n${tail}` : ' and wrote nothing'}`, {
      script,
      exitCode,
      tail,
    });
  }
}

export const COMMAND_LOG = 'command.log';
/** HOME of the scripts: a folder of the environment's workdir, not the server's home. */
const SCRIPT_HOME = '.home';
const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

/**
 * Runs one of the environment's scripts with `sh -c` in the workdir, in its own process group, in
 * the sandbox when there is one: the workdir writable, the artifact readable, the network on, and
 * nothing of Gantry's data dir, the server's home or other environments.
 */
export async function runScript(run: ScriptRun): Promise<StepOutcome> {
  const workdir = resolve(run.ctx.workdir);
  await mkdir(workdir, { recursive: true });
  const logFile = join(workdir, COMMAND_LOG);
  await ownFile(logFile); // a script may have swapped the log for a link to a file of the host
  const about = run.release ? ` ${run.release.sha}` : '';
  await appendFile(logFile, `--- ${new Date().toISOString()} ${run.name}${about}\n`);
  const env = scriptEnv(run.env, run.release, workdir, run.ctx.fence);
  await mkdir(env.HOME!, { recursive: true });
  const wrapper = run.sandbox?.wrap({
    readWrite: [workdir],
    readOnly: run.release && run.release.kind !== 'image' ? [resolve(run.release.artifact)] : [],
    cwd: workdir,
    env,
    secretEnv: Object.keys(run.env.secrets ?? {}),
    network: true,
  });
  return runStep({
    command: run.script,
    cwd: workdir,
    env,
    wrapper,
    logFile,
    timeoutMs: run.timeoutMs,
    signal: run.ctx.signal,
    mask: new SecretMasker(Object.values(run.env.secrets ?? {})),
  });
}

export function scriptEnv(
  env: EnvironmentSpec,
  release: ScriptRelease | null,
  workdir: string,
  /** The environment's fencing token (DriverContext.fence): a script that switches passes it on. */
  fence?: number,
): Record<string, string> {
  return allowlistedEnv(process.env, env.config, env.secrets ?? {}, {
    HOME: join(workdir, SCRIPT_HOME),
    GANTRY_APP: env.app,
    GANTRY_ENV: env.name,
    GANTRY_PORT: String(env.port),
    GANTRY_WORKDIR: workdir,
    ...(fence !== undefined && { GANTRY_FENCE: String(fence) }),
    ...(release && {
      GANTRY_SHA: release.sha,
      GANTRY_ARTIFACT: release.artifact,
      GANTRY_ARTIFACT_DIGEST: release.digest,
      GANTRY_ARTIFACT_KIND: release.kind ?? 'tarball',
      ...(release.kind === 'image' && { GANTRY_IMAGE: release.artifact }),
    }),
  });
}

/** The last line of `output` that is a full commit SHA, lower-cased. */
export function lastSha(output: string): string | null {
  const lines = output.split('\n').map((line) => line.trim());
  const found = lines.findLast((line) => FULL_SHA.test(line));
  return found ? found.toLowerCase() : null;
}
