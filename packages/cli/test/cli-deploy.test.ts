import type { Deployment, EnvironmentState } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDeployableApp,
  deployedTo,
  envPorts,
  serving,
} from '../../server/test/support/deploy-fixture.js';
import { cleanupAll } from '../../server/test/support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { type CliSandbox, makeCliSandbox } from './support/run-cli.js';

let server: TestServer;
let cli: CliSandbox;
let ports: Awaited<ReturnType<typeof envPorts>>;
let v1: string;

beforeAll(async () => {
  server = await startTestServer();
  ports = await envPorts();
  const app = await createDeployableApp(server, ports);
  v1 = app.v1;
  await deployedTo(server, 'qa', v1);
  cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
});

afterAll(async () => {
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

describe('gantry deploy, status, history, rollback', () => {
  it('deploy --dry-run prints the plan and changes nothing', async () => {
    const res = await cli.run(['deploy', 'staging', 'HEAD', '--dry-run']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Plan for staging ← ${v1.slice(0, 10)} (driver process): start`);
    expect(
      (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=staging')).body,
    ).toHaveLength(0);
  });

  it('deploy tags, pushes and follows the deployment to the end', async () => {
    const res = await cli.run(['deploy', 'staging', v1.slice(0, 8), '--reason', 'cli test']);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/tagged deploy\/staging\/\d{8}T\d{6}Z-[0-9a-f]{7} and pushed it/);
    expect(res.stderr).toMatch(/deployment dep_\w+ succeeded \(start\)/);
    expect(await serving(ports.staging)).toBe('v1 hello-staging');
  });

  it('a protected environment needs --yes when there is no terminal', async () => {
    const refused = await cli.run(['deploy', 'production', 'HEAD']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('"production" is protected: pass --yes');
    const ok = await cli.run(['deploy', 'production', 'HEAD', '--yes', '--no-tag', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ status: 'succeeded', trigger: 'api', tag: null });
  });

  it('status --json shows app × environment with health and URL', async () => {
    const states = await cli.json<EnvironmentState[]>(['status', '--json']);
    expect(states.map((s) => [s.env, s.current?.sha, s.health?.healthy, s.url])).toEqual([
      ['qa', v1, true, `http://127.0.0.1:${ports.qa}`],
      ['staging', v1, true, `http://127.0.0.1:${ports.staging}`],
      ['production', v1, true, `http://127.0.0.1:${ports.production}`],
    ]);
    const table = await cli.run(['status']);
    expect(table.stdout).toMatch(/^APP\s+ENV\s+SHA/);
    expect(table.stdout).toContain('protected');
  });

  it('rollback with nothing to roll back to fails with what to do; history lists refusals too', async () => {
    const res = await cli.run(['rollback', 'qa']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('nothing to roll back to');
    const bad = await cli.run(['deploy', 'moon', 'HEAD', '--no-tag']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('environment "moon" is not declared');
    const history = await cli.json<Deployment[]>(['history', 'moon', '--json']);
    expect(history[0]).toMatchObject({ status: 'rejected' });
  });

  it('lock and unlock record who and why', async () => {
    expect((await cli.run(['lock', 'qa', '--reason', 'freeze'])).code).toBe(0);
    const states = await cli.json<EnvironmentState[]>(['status', '--app', 'shop', '--json']);
    expect(states.find((s) => s.env === 'qa')?.lock).toMatchObject({ reason: 'freeze' });
    expect((await cli.run(['unlock', 'qa'])).code).toBe(0);
    const after = await cli.json<EnvironmentState[]>(['status', '--json']);
    expect(after.find((s) => s.env === 'qa')?.lock).toBeNull();
  });
});
