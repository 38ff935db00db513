import { access, mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  DeployPlan,
  DeployResult,
  Driver,
  DriverContext,
  EnvironmentSpec,
  HealthReport,
  PlanInput,
  Release,
} from '@gantry/driver-api';
import { GantryError, InvalidInput } from '../../errors.js';
import type { StepOutcome } from '../../features/builds/run-step.js';
import type { Sandbox } from '../../sandbox/host-sandbox.js';
import { lastSha, runScript, ScriptFailed, type ScriptName, type ScriptRelease } from './command-script.js';
import { type CommandState, readCommandState, writeCommandState } from './command-state.js';

export interface CommandDriverOptions {
  /** Pause between two runs of the health script while a deployment waits for it. */
  pollIntervalMs?: number;
  /** Longest a deploy or stop script may run before its process group is killed. */
  scriptTimeoutMs?: number;
  /** Runs the scripts in bubblewrap; without it they get the allowlisted environment only. */
  sandbox?: Sandbox;
}

const DEFAULT_HEALTH_TIMEOUT_MS = 30_000;

/**
 * The `command` driver: the environment's own scripts (`commands.deploy|health|stop` — helm,
 * terraform, ssh) do the work. After a failed deployment it runs the deploy script again with the
 * release that served before, so that the old release keeps serving as the contract requires.
 */
export function createCommandDriver(opts: CommandDriverOptions = {}): Driver {
  const pollIntervalMs = opts.pollIntervalMs ?? 250;
  const scriptTimeoutMs = opts.scriptTimeoutMs ?? 30 * 60_000;

  const probe = async (
    env: EnvironmentSpec,
    ctx: DriverContext,
    release: ScriptRelease | null,
    timeoutMs: number,
  ): Promise<HealthReport & { cutShort?: boolean }> => {
    const script = env.commands?.health;
    if (!script) return { healthy: false, sha: release?.sha ?? null, detail: 'no health script' };
    const out = await runScript({
      name: 'health',
      script,
      env,
      release,
      ctx,
      timeoutMs,
      sandbox: opts.sandbox,
    });
    ctx.signal.throwIfAborted();
    const sha = lastSha(out.tail) ?? release?.sha ?? null;
    if (out.exitCode === 0) return { healthy: true, sha };
    const why = out.stoppedBy === 'timeout' ? `timed out after ${timeoutMs} ms` : `exit code ${out.exitCode}`;
    const detail = `health script: ${why}${out.tail ? `\n${out.tail}` : ''}`;
    return { healthy: false, sha, detail, ...(out.stoppedBy === 'timeout' && { cutShort: true }) };
  };

  const waitHealthy = async (target: Release, release: ScriptRelease, ctx: DriverContext): Promise<void> => {
    const timeoutMs = healthTimeout(target.env);
    const deadline = Date.now() + timeoutMs;
    let last: (HealthReport & { cutShort?: boolean }) | null = null;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const report = await probe(target.env, ctx, release, left);
      if (report.healthy && report.sha === target.sha) return;
      // A probe cut short by the deadline says less than the one before it.
      if (!last || !report.cutShort) last = report;
      await sleep(Math.min(pollIntervalMs, Math.max(0, deadline - Date.now())), undefined, {
        signal: ctx.signal,
      });
    }
    const seen = last?.healthy ? `it reports ${last.sha} serving` : (last?.detail ?? 'no answer');
    throw new GantryError(`release ${target.sha} did not become healthy within ${timeoutMs} ms: ${seen}`, {
      detail: last?.detail,
    });
  };

  /** Deploy script, then the health script until it passes: the whole of a deployment. */
  const install = async (target: Release, ctx: DriverContext, phases: boolean): Promise<void> => {
    const release = scriptRelease(target);
    const script = scriptOf(target.env, 'deploy');
    if (phases) ctx.phase('start');
    const out = await runScript({
      name: 'deploy',
      script,
      env: target.env,
      release,
      ctx,
      timeoutMs: scriptTimeoutMs,
      sandbox: opts.sandbox,
    });
    ctx.signal.throwIfAborted();
    if (out.exitCode !== 0) {
      throw new ScriptFailed('deploy', out.exitCode, out.tail, whyStopped(out.stoppedBy, out.exitCode));
    }
    if (!target.env.commands?.health) return;
    if (phases) ctx.phase('health');
    await waitHealthy(target, release, ctx);
  };

  const restorePrevious = async (
    previous: CommandState | null,
    target: Release,
    ctx: DriverContext,
    failure: unknown,
  ): Promise<never> => {
    const reason = failure instanceof Error ? failure.message : String(failure);
    if (!previous || previous.sha === target.sha) throw failure;
    const back: Release = {
      env: target.env,
      sha: previous.sha,
      deploymentId: previous.deploymentId,
      artifact:
        previous.kind === 'image'
          ? { kind: 'image', reference: previous.artifact, digest: previous.digest }
          : { path: previous.artifact, digest: previous.digest },
    };
    ctx.logger.warn('deployment failed; deploying the previous release again', {
      failed: target.sha,
      previous: previous.sha,
    });
    try {
      if (previous.kind !== 'image') await access(previous.artifact);
      await install(back, ctx, false);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new GantryError(
        `${reason}\nDeploying the previous release ${previous.sha} again failed too: ${why}`,
        {
          restored: false,
          failure: detailsOf(failure),
        },
      );
    }
    throw new GantryError(`${reason}\nThe previous release ${previous.sha} was deployed again and serves.`, {
      restored: true,
      failure: detailsOf(failure),
    });
  };

  const deploy = async (target: Release, ctx: DriverContext): Promise<DeployResult> => {
    ctx.signal.throwIfAborted();
    scriptOf(target.env, 'deploy');
    await mkdir(ctx.workdir, { recursive: true });
    const previous = await readCommandState(ctx.workdir);
    const url = urlOf(target.env);
    if (previous?.sha === target.sha && target.env.commands?.health) {
      const now = await probe(target.env, ctx, previous, healthTimeout(target.env));
      if (now.healthy && now.sha === target.sha) return { url, kind: 'noop' };
    }
    try {
      await install(target, ctx, true);
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      await restorePrevious(previous, target, ctx, err);
    }
    await writeCommandState(ctx.workdir, {
      ...scriptRelease(target),
      deploymentId: target.deploymentId,
      deployedAt: new Date().toISOString(),
    });
    return { url, kind: 'start' };
  };

  return {
    name: 'command',
    capabilities: { warmStandby: false, zeroDowntimeSwitch: false, adopt: false },
    plan: planCommandDeploy,
    deploy,
    async health(env, ctx) {
      ctx.signal.throwIfAborted();
      const state = await readCommandState(ctx.workdir);
      if (!env.commands?.health) {
        const detail = 'no health script; reporting the last successful deployment';
        return { healthy: state !== null, sha: state?.sha ?? null, detail };
      }
      return probe(env, ctx, state, healthTimeout(env));
    },
    async stop(env, ctx) {
      ctx.signal.throwIfAborted();
      const state = await readCommandState(ctx.workdir);
      const script = env.commands?.stop;
      if (script) {
        const out = await runScript({
          name: 'stop',
          script,
          env,
          release: state,
          ctx,
          timeoutMs: scriptTimeoutMs,
          sandbox: opts.sandbox,
        });
        ctx.signal.throwIfAborted();
        if (out.exitCode !== 0) {
          throw new ScriptFailed('stop', out.exitCode, out.tail, whyStopped(out.stoppedBy, out.exitCode));
        }
      } else {
        ctx.logger.warn('the environment has no stop script; forgetting its release without stopping it', {
          env: env.name,
        });
      }
      await writeCommandState(ctx.workdir, null);
    },
    async restore(env, serving, ctx) {
      return deploy({ ...serving, env }, ctx);
    },
  };
}

/** Pure: 'noop' when the target serves already, else 'start' with the scripts it will run. */
export function planCommandDeploy(input: PlanInput): DeployPlan {
  const { env, target } = input;
  const serving = input.releases.find((release) => release.state === 'serving');
  if (serving?.sha === target.sha) {
    return { kind: 'noop', steps: [`${target.sha} already serves ${env.app}/${env.name}`] };
  }
  const deploy = env.commands?.deploy;
  const health = env.commands?.health;
  const steps = [
    deploy ? `run the deploy script: ${deploy}` : 'fail: the environment has no commands.deploy',
  ];
  if (health) {
    steps.push(`run the health script until it passes (${healthTimeout(env)} ms at most): ${health}`);
  }
  if (serving && deploy) steps.push(`if it fails, run the deploy script again with ${serving.sha}`);
  return { kind: 'start', steps };
}

function scriptOf(env: EnvironmentSpec, name: ScriptName): string {
  const script = env.commands?.[name];
  if (!script) {
    throw new InvalidInput(
      `environment "${env.name}" uses the command driver but has no commands.${name}; add it to gantry.yaml`,
    );
  }
  return script;
}

function scriptRelease(release: Release): ScriptRelease {
  const a = release.artifact;
  return a.kind === 'image'
    ? { sha: release.sha, digest: a.digest, artifact: a.reference, kind: 'image' }
    : { sha: release.sha, digest: a.digest, artifact: a.path, kind: 'tarball' };
}

function healthTimeout(env: EnvironmentSpec): number {
  return env.run?.health.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
}

function urlOf(env: EnvironmentSpec): string {
  return `http://127.0.0.1:${env.port}`;
}

function whyStopped(stoppedBy: StepOutcome['stoppedBy'], exitCode: number | null): string {
  if (stoppedBy === 'timeout') return 'ran past its time limit and was stopped';
  if (stoppedBy && stoppedBy !== 'abort') return `was stopped (${stoppedBy})`;
  return `exited with code ${exitCode}`;
}

function detailsOf(err: unknown): unknown {
  return err instanceof GantryError ? err.details : undefined;
}
