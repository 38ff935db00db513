import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Deployment } from '@gantry/contracts';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createProcessDriver } from '../../src/drivers/process/process-driver.js';
import { deployYaml, envPorts, SERVER_JS, serving } from '../support/deploy-fixture.js';
import { cleanupAll, createBareRepo, createWorkClone, makeTempDir } from '../support/git-fixtures.js';
import { alive, freePort, processApi, type ServerProcess, spawnServer } from '../support/server-process.js';
import { waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

const api = processApi;

async function deployment(s: ServerProcess, sha: string, status: string): Promise<Deployment> {
  return waitFor(
    async () => {
      const all = await api<Deployment[]>(s, 'GET', '/api/deployments?app=shop&env=qa');
      return all.find((d) => d.sha === sha && d.status === status);
    },
    `a ${status} deployment of ${sha}`,
    40_000,
  );
}

describe('the server killed with SIGKILL in the middle of a deployment', () => {
  it('marks it interrupted; the environment keeps serving its last healthy release; no process is left untracked', async () => {
    const dataDir = await makeTempDir('gantry-crash-deploy-');
    const pidDir = await makeTempDir('gantry-crash-pids-');
    const ports = await envPorts();
    const bare = await createBareRepo();
    const work = await createWorkClone(bare.url);
    await work.write('gantry.yaml', deployYaml(ports, { qaConfig: { PID_DIR: pidDir } }));
    await work.write('server.js', SERVER_JS);
    await work.write('VERSION', 'v1');
    const v1 = await work.commit('v1');
    await work.push();

    const port = await freePort();
    let server = await spawnServer(dataDir, port);
    try {
      await api(server, 'POST', '/api/apps', { name: 'shop', repoUrl: bare.dir });
      await deployment(server, v1, 'succeeded');
      expect(await serving(ports.qa)).toBe('v1 hello-qa');

      // v2 boots slowly (never listens within the test): kill the server while it waits for health
      await work.write('VERSION', 'slow-v2');
      const v2 = await work.commit('slow v2');
      await work.push();
      await api(server, 'POST', '/api/apps/shop/sync');
      await deployment(server, v2, 'running');
      const slowPid = await waitFor(async () => {
        try {
          return Number(readFileSync(join(pidDir, 'slow-v2.pid'), 'utf8'));
        } catch {
          return undefined;
        }
      }, 'the slow release to start');
      server.child.kill('SIGKILL');
      await server.exited;
      expect(await serving(ports.qa)).toBe('v1 hello-qa'); // the proxy outlives the server

      server = await spawnServer(dataDir, port);
      const interrupted = await deployment(server, v2, 'interrupted');
      expect(interrupted.error).toContain('stopped mid-deployment');
      await waitFor(
        async () => (alive(slowPid) ? undefined : true),
        'the half-deployed release to be stopped',
      );
      expect(await serving(ports.qa)).toBe('v1 hello-qa');
      const v1Pid = Number(readFileSync(join(pidDir, 'v1.pid'), 'utf8'));
      expect(alive(v1Pid)).toBe(true); // adopted, not restarted
    } finally {
      await api(server, 'POST', '/api/apps/shop/environments/qa/lock', { reason: 'test over' }).catch(
        () => undefined,
      );
      server.child.kill('SIGTERM');
      await server.exited;
      // environments outlive the server by design: stop this one's proxy and releases
      const driver = createProcessDriver();
      await driver.stop(
        { app: 'shop', name: 'qa', port: ports.qa, config: {}, standby: 1 },
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
    const db = new Database(join(dataDir, 'gantry.db'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});
