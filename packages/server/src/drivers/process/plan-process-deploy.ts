import type { DeployPlan, EnvironmentSpec, PlanInput } from '@gantry/driver-api';

export const KEEP_RELEASE_FOLDERS = 5;

/** Pure: what the process driver does to make `target` serve, given what runs now. */
export function planProcessDeploy({ env, target, releases }: PlanInput): DeployPlan {
  const short = shortSha(target.sha);
  const serving = releases.find((r) => r.state === 'serving');
  const standbys = releases.filter((r) => r.state === 'standby' && r.sha !== target.sha);
  const address = `127.0.0.1:${env.port}`;
  if (serving?.sha === target.sha) {
    return { kind: 'noop', steps: [`${short} already serves ${env.name} on ${address}; check its health`] };
  }
  const from = serving ? shortSha(serving.sha) : 'nothing';
  const retire = retireSteps(
    serving?.sha ?? null,
    standbys.map((r) => r.sha),
    standbyCount(env),
  );
  const switchStep = `switch ${address} from ${from} to ${short}; requests in flight finish on ${from}`;
  if (releases.some((r) => r.state === 'standby' && r.sha === target.sha)) {
    return { kind: 'switch', steps: [`check the health of warm standby ${short}`, switchStep, ...retire] };
  }
  const run = env.run;
  const onDisk = releases.some((r) => r.sha === target.sha);
  const health = run
    ? `GET ${run.health.path} answers 2xx (up to ${seconds(run.health.timeoutMs)})`
    : 'healthy';
  return {
    kind: 'start',
    steps: [
      onDisk
        ? `reuse releases/${short}, already on disk`
        : `unpack artifact ${target.digest} into releases/${short}`,
      `start \`${run?.command ?? '(no run.command)'}\` with ${run?.portEnv ?? 'PORT'}=<free port>`,
      `wait until ${health}`,
      switchStep,
      ...retire,
      `keep the last ${KEEP_RELEASE_FOLDERS} release folders`,
    ],
  };
}

function retireSteps(previous: string | null, standbys: string[], keep: number): string[] {
  const warm = previous ? [previous, ...standbys.filter((s) => s !== previous)] : standbys;
  const steps: string[] = [];
  const kept = warm.slice(0, keep);
  if (kept.length) steps.push(`keep ${kept.map(shortSha).join(', ')} running as warm standby`);
  for (const sha of warm.slice(keep)) steps.push(`drain ${shortSha(sha)}, then stop it`);
  return steps;
}

/** `env.standby`, 1 when it is not set. */
export function standbyCount(env: EnvironmentSpec): number {
  return Number.isInteger(env.standby) && env.standby >= 0 ? env.standby : 1;
}

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

export function seconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
