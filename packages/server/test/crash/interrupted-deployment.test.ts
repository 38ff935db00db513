import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Deployment, EnvironmentState, GantryEvent } from '@gantry/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { createProcessDriver } from '../../src/drivers/process/process-driver.js';
import { type DeployEnvPorts, deployYaml, envPorts, serving } from '../support/deploy-fixture.js';
import {
  cleanupAll,
  createBareRepo,
  createWorkClone,
  makeTempDir,
  type WorkClone,
} from '../support/git-fixtures.js';
import { freePort, processApi, type ServerProcess, spawnServer } from '../support/server-process.js';
import { waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

const api = processApi;
const CLI = resolve(import.meta.dirname, '../../../cli/bin/gantry.js');

/** Like the deploy fixture's app, but a `gated-*` version listens only once `$GATE_DIR/open` exists. */
const GATED_SERVER_JS = `import { createServer } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
const version = readFileSync(new URL('./VERSION', import.meta.url), 'utf8').trim();
writeFileSync(process.env.PID_DIR + '/' + version + '.pid', String(process.pid));
const server = createServer((req, res) => res.end(req.url === '/healthz' ? 'ok' : version + ' ' + process.env.GREETING));
const listen = () => server.listen(Number(process.env.PORT), '127.0.0.1');
if (!version.startsWith('gated')) listen();
else {
  const t = setInterval(() => { if (existsSync(process.env.GATE_DIR + '/open')) { clearInterval(t); listen(); } }, 50);
}
`;

interface Scene {
  dataDir: string;
  port: number;
  ports: DeployEnvPorts;
  work: WorkClone;
  pidDir: string;
  gateDir: string;
  bare: { dir: string };
}

async function scene(): Promise<Scene> {
  const dataDir = await makeTempDir('gantry-crash-retry-');
  const pidDir = await makeTempDir('gantry-crash-pids-');
  const gateDir = await makeTempDir('gantry-crash-gate-');
  const ports = await envPorts();
  const bare = await createBareRepo();
  const work = await createWorkClone(bare.url);
  // A long health timeout: the gated release must still be starting when the server is killed.
  const yaml = deployYaml(ports, { qaConfig: { PID_DIR: pidDir, GATE_DIR: gateDir } }).replace(
    'timeout: 5s',
    'timeout: 120s',
  );
  await work.write('gantry.yaml', yaml);
  await work.write('server.js', GATED_SERVER_JS);
  return { dataDir, port: await freePort(), ports, work, pidDir, gateDir, bare };
}

async function push(s: Scene, version: string): Promise<string> {
  await s.work.write('VERSION', version);
  const sha = await s.work.commit(version);
  await s.work.push();
  return sha;
}

function deployments(server: ServerProcess): Promise<Deployment[]> {
  return api<Deployment[]>(server, 'GET', '/api/deployments?app=shop&env=qa&limit=100');
}

function deployment(
  server: ServerProcess,
  what: string,
  pick: (d: Deployment) => boolean,
): Promise<Deployment> {
  return waitFor(async () => (await deployments(server)).find(pick), what, 60_000);
}

/** The pid file a release writes when it starts; a different pid than `not` when given. */
function releasePid(s: Scene, version: string, not?: number): Promise<number> {
  return waitFor(
    async () => {
      try {
        const pid = Number(readFileSync(join(s.pidDir, `${version}.pid`), 'utf8'));
        return pid && pid !== not ? pid : undefined;
      } catch {
        return undefined;
      }
    },
    `${version} to start`,
    60_000,
  );
}

async function kill(server: ServerProcess): Promise<void> {
  server.child.kill('SIGKILL');
  await server.exited;
}

async function finish(s: Scene, server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited;
  // Environments outlive the server by design: stop this one's proxy and releases.
  const driver = createProcessDriver();
  await driver.stop(
    { app: 'shop', name: 'qa', port: s.ports.qa, config: {}, standby: 1 },
    {
      workdir: join(s.dataDir, 'envs', 'shop', 'qa'),
      signal: new AbortController().signal,
      logger: { info() {}, warn() {}, error() {} },
      phase() {},
      report() {},
    },
  );
  await driver.close();
}

/** Starts the first server with the app deployed at v1, and a gated v2 deployment starting. */
async function killedMidDeploy(s: Scene): Promise<{ v1: string; v2: string; first: ServerProcess }> {
  const v1 = await push(s, 'v1');
  const first = await spawnServer(s.dataDir, s.port);
  await api(first, 'POST', '/api/apps', { name: 'shop', repoUrl: s.bare.dir });
  await deployment(first, 'v1 deployed', (d) => d.sha === v1 && d.status === 'succeeded');
  const v2 = await push(s, 'gated-v2');
  await api(first, 'POST', '/api/apps/shop/sync');
  await deployment(first, 'v2 deploying', (d) => d.sha === v2 && d.status === 'running');
  await releasePid(s, 'gated-v2');
  return { v1, v2, first };
}

describe('a deployment interrupted by a SIGKILL of the server', { timeout: 240_000 }, () => {
  it('is recorded interrupted, run again once on start, and gantry status shows it', async () => {
    const s = await scene();
    const { v2, first } = await killedMidDeploy(s);
    await kill(first);
    expect(await serving(s.ports.qa)).toBe('v1 hello-qa');
    await writeFile(join(s.gateDir, 'open'), ''); // the next start of v2 comes up at once

    const second = await spawnServer(s.dataDir, s.port);
    try {
      const cut = await deployment(
        second,
        'v2 interrupted',
        (d) => d.sha === v2 && d.status === 'interrupted',
      );
      expect(cut.error).toContain('stopped mid-deployment');
      const retry = await deployment(
        second,
        'the retry to succeed',
        (d) => d.sha === v2 && d.status === 'succeeded',
      );
      expect(retry).toMatchObject({ actor: 'deployer', trigger: cut.trigger });
      expect(retry.reason).toContain(`retry of ${cut.id}`);
      expect(await serving(s.ports.qa)).toBe('gated-v2 hello-qa');
      expect((await deployments(second)).filter((d) => d.sha === v2)).toHaveLength(2);

      const events = await api<GantryEvent[]>(second, 'GET', '/api/events?after=0');
      const recorded = events.find((e) => e.type === 'deployment.interrupted' && e.subject === cut.id);
      // The driver was asked what served the environment (v1: v2 never got healthy).
      expect(recorded?.data).toMatchObject({ env: 'qa', sha: v2, serving: expect.any(String) });

      const [qa] = (await api<EnvironmentState[]>(second, 'GET', '/api/apps/shop/environments')).filter(
        (e) => e.env === 'qa',
      );
      expect(qa?.interrupted?.deployment.id).toBe(cut.id);
      expect(qa?.interrupted?.retry?.id).toBe(retry.id);
      const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'status', '--app', 'shop'], {
        env: { ...process.env, GANTRY_URL: second.url, GANTRY_TOKEN: second.token, NO_COLOR: '1' },
      });
      expect(stdout).toContain(`interrupted, retried (${retry.id} succeeded)`);
    } finally {
      await finish(s, second);
    }
  });

  it('is not run again when a newer request for the environment exists', async () => {
    const s = await scene();
    const { v2, first } = await killedMidDeploy(s);
    const v3 = await push(s, 'v3');
    await api(first, 'POST', '/api/apps/shop/sync');
    await deployment(first, 'v3 queued behind v2', (d) => d.sha === v3 && d.status === 'queued');
    await kill(first);

    const second = await spawnServer(s.dataDir, s.port);
    try {
      await deployment(second, 'v3 to succeed', (d) => d.sha === v3 && d.status === 'succeeded');
      expect(await serving(s.ports.qa)).toBe('v3 hello-qa');
      const ofV2 = (await deployments(second)).filter((d) => d.sha === v2);
      expect(ofV2.map((d) => d.status)).toEqual(['interrupted']);
    } finally {
      await finish(s, second);
    }
  });

  it('is run again only once: a retry interrupted in turn stays interrupted', async () => {
    const s = await scene();
    const { v2, first } = await killedMidDeploy(s);
    const firstPid = await releasePid(s, 'gated-v2');
    await kill(first);

    const second = await spawnServer(s.dataDir, s.port);
    const retry = await deployment(second, 'the retry to run', (d) => d.sha === v2 && d.status === 'running');
    await releasePid(s, 'gated-v2', firstPid); // the retry's own start of v2, still gated
    await kill(second);

    const third = await spawnServer(s.dataDir, s.port);
    try {
      await deployment(
        third,
        'the retry interrupted',
        (d) => d.id === retry.id && d.status === 'interrupted',
      );
      // Recovery (and any retry it would queue) is done before the server listens.
      const ofV2 = (await deployments(third)).filter((d) => d.sha === v2);
      expect(ofV2.map((d) => d.status)).toEqual(['interrupted', 'interrupted']);
      expect(await serving(s.ports.qa)).toBe('v1 hello-qa');
      const [qa] = (await api<EnvironmentState[]>(third, 'GET', '/api/apps/shop/environments')).filter(
        (e) => e.env === 'qa',
      );
      expect(qa?.interrupted).toMatchObject({ deployment: { id: retry.id }, retry: null });
    } finally {
      await finish(s, third);
    }
  });
});
