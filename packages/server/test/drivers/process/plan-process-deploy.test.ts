import type { EnvironmentSpec, RunningRelease } from '@gantry/driver-api';
import { describe, expect, it } from 'vitest';
import { planProcessDeploy } from '../../../src/drivers/process/plan-process-deploy.js';

const env: EnvironmentSpec = {
  app: 'shop',
  name: 'production',
  port: 7503,
  config: {},
  standby: 1,
  run: { command: 'node server.js', portEnv: 'PORT', health: { path: '/healthz', timeoutMs: 30_000 } },
};
const sha = (c: string) => c.repeat(40);
const release = (c: string, state: RunningRelease['state']): RunningRelease => ({
  sha: sha(c),
  digest: `sha256:${c.repeat(64)}`,
  state,
});
const target = (c: string) => ({ sha: sha(c), digest: `sha256:${c.repeat(64)}` });

describe('planProcessDeploy', () => {
  it('does nothing but a health check when the target already serves', () => {
    expect(planProcessDeploy({ env, target: target('a'), releases: [release('a', 'serving')] })).toEqual({
      kind: 'noop',
      steps: ['aaaaaaa already serves production on 127.0.0.1:7503; check its health'],
    });
  });

  it('only switches to a warm standby, and keeps the one that served warm', () => {
    const releases = [release('b', 'serving'), release('a', 'standby')];
    expect(planProcessDeploy({ env, target: target('a'), releases })).toEqual({
      kind: 'switch',
      steps: [
        'check the health of warm standby aaaaaaa',
        'switch 127.0.0.1:7503 from bbbbbbb to aaaaaaa; requests in flight finish on bbbbbbb',
        'keep bbbbbbb running as warm standby',
      ],
    });
  });

  it('starts a release that is only on disk, and drains the standby that no longer fits', () => {
    const releases = [release('b', 'serving'), release('a', 'standby'), release('c', 'stopped')];
    expect(planProcessDeploy({ env, target: target('c'), releases })).toEqual({
      kind: 'start',
      steps: [
        'reuse releases/ccccccc, already on disk',
        'start `node server.js` with PORT=<free port>',
        'wait until GET /healthz answers 2xx (up to 30 s)',
        'switch 127.0.0.1:7503 from bbbbbbb to ccccccc; requests in flight finish on bbbbbbb',
        'keep bbbbbbb running as warm standby',
        'drain aaaaaaa, then stop it',
        'keep the last 5 release folders',
      ],
    });
  });

  it('unpacks and starts the first release of an environment', () => {
    const plan = planProcessDeploy({ env: { ...env, standby: 0 }, target: target('d'), releases: [] });
    expect(plan.kind).toBe('start');
    expect(plan.steps[0]).toBe(`unpack artifact sha256:${'d'.repeat(64)} into releases/ddddddd`);
    expect(plan.steps[3]).toBe(
      'switch 127.0.0.1:7503 from nothing to ddddddd; requests in flight finish on nothing',
    );
  });
});
