import type { EnvironmentSpec, RunningRelease } from '@gantry/driver-api';
import { describe, expect, it } from 'vitest';
import { planContainerDeploy } from '../../../src/drivers/container/plan-container-deploy.js';

const env: EnvironmentSpec = {
  app: 'shop',
  name: 'qa',
  port: 7501,
  config: {},
  standby: 1,
  run: {
    command: '',
    portEnv: 'PORT',
    health: { path: '/healthz', timeoutMs: 10_000 },
    limits: { memoryBytes: 268_435_456, cpus: 0.5 },
  },
};
const sha = (c: string) => c.repeat(40);
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const release = (c: string, state: RunningRelease['state']): RunningRelease => ({
  sha: sha(c),
  digest: digest(c),
  state,
});

describe('planContainerDeploy', () => {
  it("is 'noop' when the same SHA and image serve", () => {
    const plan = planContainerDeploy({
      env,
      target: { sha: sha('a'), digest: digest('a') },
      releases: [release('a', 'serving')],
    });
    expect(plan.kind).toBe('noop');
  });

  it("is 'start' when the SHA serves but as another image (a rebuild)", () => {
    const plan = planContainerDeploy({
      env,
      target: { sha: sha('a'), digest: digest('c') },
      releases: [release('a', 'serving')],
    });
    expect(plan.kind).toBe('start');
  });

  it("is 'switch' when the target is the warm standby container", () => {
    const plan = planContainerDeploy({
      env,
      target: { sha: sha('a'), digest: digest('a') },
      releases: [release('b', 'serving'), release('a', 'standby')],
    });
    expect(plan).toEqual({
      kind: 'switch',
      steps: [
        `check the health of warm standby container aaaaaaa`,
        'switch 127.0.0.1:7501 from bbbbbbb to aaaaaaa; requests in flight finish on bbbbbbb',
        'keep bbbbbbb running as warm standby',
      ],
    });
  });

  it("is 'start' otherwise: pull by digest, limits, health, switch; older standbys drain and go", () => {
    const plan = planContainerDeploy({
      env,
      target: { sha: sha('c'), digest: digest('c') },
      releases: [release('b', 'serving'), release('a', 'standby')],
    });
    expect(plan.kind).toBe('start');
    expect(plan.steps).toEqual([
      `pull image ${digest('c')} by digest`,
      'create and start container gantry-shop-qa-cccccccccccc-<n> with PORT=<free port>, memory 268435456 bytes, 0.5 CPUs',
      'wait until GET /healthz answers 2xx (up to 10 s)',
      'switch 127.0.0.1:7501 from bbbbbbb to ccccccc; requests in flight finish on bbbbbbb',
      'keep bbbbbbb running as warm standby',
      'drain aaaaaaa, then stop and remove its container',
    ]);
  });
});
