import type { Revert } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRevertApp,
  deployedTo,
  revertDone,
  verification,
} from '../../server/test/reverts/revert-fixture.js';
import { cleanupAll } from '../../server/test/support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { type CliSandbox, makeCliSandbox } from './support/run-cli.js';

let server: TestServer;
let cli: CliSandbox;
let failedId: string;
let bad: string;

beforeAll(async () => {
  server = await startTestServer();
  const app = await createRevertApp(server, { mode: 'propose' });
  [bad] = (await app.pushCommits([{ files: { VERSION: 'bad-2' }, message: 'a broken change' }])) as [string];
  const failed = await deployedTo(server, 'qa', bad);
  failedId = failed.id;
  await verification(server, failedId);
  await revertDone(server);
  cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
});

afterAll(async () => {
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

describe('gantry checks, reverts, and checks in status and history', () => {
  it('checks <deployment> lists every run with its retries and prints the failure', async () => {
    const res = await cli.run(['checks', failedId]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`${failedId}: shop/qa ${bad.slice(0, 7)}`);
    expect(res.stdout).toContain('checks: check_failed');
    expect(res.stdout).toMatch(/smoke\s+run\s+1\/2\s+failed/);
    expect(res.stdout).toMatch(/smoke\s+run\s+2\/2\s+failed/);
    expect(res.stdout).toContain('--- smoke (attempt 2, failed) output:');
    expect(res.stdout).toContain('this release is broken');
    const json = JSON.parse((await cli.run(['checks', failedId, '--json'])).stdout);
    expect(json.runs).toHaveLength(2);
    expect(json.declared).toEqual([{ name: 'smoke', kind: 'run', retries: 1 }]);
  });

  it('checks of an unknown deployment is a clear error', async () => {
    const res = await cli.run(['checks', 'dep_nope']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('no deployment "dep_nope"');
  });

  it('history and status show each deployment’s checks', async () => {
    const history = await cli.run(['history', 'qa']);
    expect(history.code).toBe(0);
    expect(history.stdout).toContain('CHECK FAILED');
    expect(history.stdout).toContain('auto-rollback');
    expect(history.stdout).toContain('verified');
    const status = await cli.run(['status']);
    expect(status.stdout).toMatch(/qa .*verified/);
  });

  it('reverts lists what was blamed and the proposed branch', async () => {
    const res = await cli.run(['reverts']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('proposed');
    expect(res.stdout).toContain(`on gantry/revert-${bad.slice(0, 12)}`);
    const json = JSON.parse((await cli.run(['reverts', '--json'])).stdout) as Revert[];
    expect(json[0]).toMatchObject({ status: 'proposed', blamedSha: bad, mode: 'propose' });
  });
});
