import type { DeployPlan, PlanInput } from '@gantry/driver-api';
import { seconds, shortSha, standbyCount } from '../process/plan-process-deploy.js';
import { sameDigest } from './container-state.js';

/**
 * Pure: what the container driver does to make `target` serve, given what runs now. 'noop' when
 * the target (same SHA and image digest) serves, 'switch' when it is a warm standby container,
 * 'start' otherwise.
 */
export function planContainerDeploy({ env, target, releases }: PlanInput): DeployPlan {
  const short = shortSha(target.sha);
  const matches = (r: PlanInput['releases'][number]) =>
    r.sha === target.sha && sameDigest(r.digest, target.digest);
  const serving = releases.find((r) => r.state === 'serving');
  const address = `127.0.0.1:${env.port}`;
  if (serving && matches(serving)) {
    return { kind: 'noop', steps: [`${short} already serves ${env.name} on ${address}; check its health`] };
  }
  const from = serving ? shortSha(serving.sha) : 'nothing';
  const standbys = releases.filter((r) => r.state === 'standby' && !matches(r));
  const warm = [...(serving ? [serving.sha] : []), ...standbys.map((r) => r.sha)];
  const keep = standbyCount(env);
  const retire: string[] = [];
  if (warm.slice(0, keep).length) {
    retire.push(`keep ${warm.slice(0, keep).map(shortSha).join(', ')} running as warm standby`);
  }
  for (const sha of warm.slice(keep))
    retire.push(`drain ${shortSha(sha)}, then stop and remove its container`);
  const switchStep = `switch ${address} from ${from} to ${short}; requests in flight finish on ${from}`;
  if (releases.some((r) => r.state === 'standby' && matches(r))) {
    return {
      kind: 'switch',
      steps: [`check the health of warm standby container ${short}`, switchStep, ...retire],
    };
  }
  const run = env.run;
  const limits = run?.limits;
  const limitText = [
    limits?.memoryBytes ? `memory ${limits.memoryBytes} bytes` : null,
    limits?.cpus ? `${limits.cpus} CPUs` : null,
  ].filter(Boolean);
  return {
    kind: 'start',
    steps: [
      `pull image ${target.digest || '(digest unknown)'} by digest`,
      `create and start container gantry-${env.app}-${env.name}-${target.sha.slice(0, 12)}-<n> with ` +
        `${run?.portEnv ?? 'PORT'}=<free port>${limitText.length ? `, ${limitText.join(', ')}` : ''}`,
      `wait until GET ${run?.health.path ?? '/'} answers 2xx (up to ${seconds(run?.health.timeoutMs ?? 0)})`,
      switchStep,
      ...retire,
    ],
  };
}
