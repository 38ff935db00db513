import { join } from 'node:path';
import type { CheckRun, Deployment, Revert } from '@gantry/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { createProcessDriver } from '../../src/drivers/process/process-driver.js';
import { revertYaml, SMOKE_SH } from '../reverts/revert-fixture.js';
import { SERVER_JS } from '../support/deploy-fixture.js';
import { cleanupAll, createBareRepo, createWorkClone, git, makeTempDir } from '../support/git-fixtures.js';
import { freePort, processApi, type ServerProcess, spawnServer } from '../support/server-process.js';
import { waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

const api = processApi;

/** The smoke check of the revert tests, two seconds slower, so a kill lands while it runs. */
const SLOW_SMOKE_SH = SMOKE_SH.replace('#!/bin/sh\n', '#!/bin/sh\nsleep 2\n');

async function checksOf(s: ServerProcess, id: string) {
  return api<{ deployment: Deployment; runs: CheckRun[] }>(s, 'GET', `/api/deployments/${id}/checks`);
}

describe('the server killed with SIGKILL during a check and during a revert', () => {
  it('runs the cut check again after the restart, resumes the revert, and pushes exactly one revert', async () => {
    const dataDir = await makeTempDir('gantry-crash-revert-');
    const qaPort = await freePort();
    const bare = await createBareRepo();
    const work = await createWorkClone(bare.url);
    await work.write('gantry.yaml', revertYaml(qaPort, { mode: 'auto' }));
    await work.write('server.js', SERVER_JS);
    await work.write('smoke.sh', SLOW_SMOKE_SH);
    await work.write('VERSION', 'v1');
    const v1 = await work.commit('v1');
    await work.push();

    const port = await freePort();
    let server = await spawnServer(dataDir, port);
    try {
      await api(server, 'POST', '/api/apps', { name: 'shop', repoUrl: bare.dir });
      const first = await waitFor(async () => {
        const all = await api<Deployment[]>(server, 'GET', '/api/deployments?app=shop&env=qa');
        return all.find((d) => d.sha === v1 && d.status === 'succeeded');
      }, 'v1 in QA');
      await waitFor(
        async () => ((await checksOf(server, first.id)).runs.length ? true : undefined),
        'the check to run',
      );

      // 1. killed while v1's check runs: the check is cancelled and run again after the restart
      server.child.kill('SIGKILL');
      await server.exited;
      server = await spawnServer(dataDir, port);
      const again = await waitFor(async () => {
        const c = await checksOf(server, first.id);
        return c.deployment.verification === 'verified' ? c : undefined;
      }, 'v1 verified after the restart');
      expect(again.runs.map((r) => [r.attempt, r.status, r.error])).toEqual([
        [1, 'cancelled', 'the server stopped during the check'],
        [1, 'passed', null],
      ]);

      // 2. a broken commit; killed while the environment guard checks v1 again
      await work.write('VERSION', 'bad-2');
      const bad = await work.commit('a broken change');
      await work.push();
      await api(server, 'POST', '/api/apps/shop/sync');
      await waitFor(async () => {
        const [r] = await api<Revert[]>(server, 'GET', '/api/reverts?app=shop');
        const guard = r?.steps.find((s) => s.step === 'guard-deploy');
        if (!guard?.deploymentId) return undefined;
        const c = await checksOf(server, guard.deploymentId);
        return c.deployment.verification === 'verifying' && c.runs.length ? true : undefined;
      }, 'the environment guard to be checking v1');
      server.child.kill('SIGKILL');
      await server.exited;
      server = await spawnServer(dataDir, port);

      const done = await waitFor(
        async () => {
          const [r] = await api<Revert[]>(server, 'GET', '/api/reverts?app=shop');
          return r && ['reverted', 'proposed', 'skipped', 'failed'].includes(r.status) ? r : undefined;
        },
        'the revert to finish after the restart',
        120_000,
      );
      expect(done).toMatchObject({ status: 'reverted', blamedSha: bad });
      expect(done.steps.map((s) => s.step)).toEqual([
        'guard-deploy',
        'guard',
        'confirm',
        'blame',
        'reverted',
      ]);
      const reverts = (
        await git(['log', '--format=%H', '--grep=^Gantry-Revert-Of: ', 'main'], bare.dir)
      ).stdout
        .split('\n')
        .filter(Boolean);
      expect(reverts).toEqual([done.revertSha]);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      const driver = createProcessDriver();
      await driver.stop(
        { app: 'shop', name: 'qa', port: qaPort, config: {}, standby: 1 },
        {
          workdir: join(dataDir, 'envs', 'shop', 'qa'),
          signal: new AbortController().signal,
          logger: { info() {}, warn() {}, error() {} },
          phase() {},
          report() {},
        },
      );
      await driver.close();
    }
  });
});
