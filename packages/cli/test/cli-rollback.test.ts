import type { Deployment, RollbackChoice } from '@gantry/contracts';
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
let qaPort: number;
const v: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  const ports = await envPorts();
  qaPort = ports.qa;
  const app = await createDeployableApp(server, ports);
  v.push(app.v1);
  await deployedTo(server, 'qa', app.v1);
  for (const version of ['v2', 'v3']) {
    const sha = await app.pushFiles({ VERSION: version }, version);
    await server.api('POST', '/api/apps/shop/sync');
    await deployedTo(server, 'qa', sha);
    v.push(sha);
  }
  cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
});

afterAll(async () => {
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

const s = (sha: string) => sha.slice(0, 10);

describe('gantry rollback picks the release before, never the one it rolled back from', () => {
  it('steps back one release at a time, says which and why, and goes onto a rolled-back release only with --to', async () => {
    const [v1, v2, v3] = v as [string, string, string];
    const first = await cli.run(['rollback', 'qa']);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(
      `rolling qa back from ${s(v3)} to ${s(v2)}: the newest release "qa" ran healthy`,
    );
    expect(await serving(qaPort)).toBe('v2 hello-qa');

    // The second rollback goes to v1: v3 (held, rolled back from) is skipped, and the answer says so.
    const second = await cli.run(['rollback', 'qa', '--json']);
    expect(second.code).toBe(0);
    const d = JSON.parse(second.stdout) as Deployment & { rollback: RollbackChoice };
    expect(d).toMatchObject({ status: 'succeeded', trigger: 'rollback', sha: v1, previousSha: v2 });
    expect(d.rollback).toMatchObject({ from: v2, to: v1 });
    expect(d.rollback.skipped).toEqual([{ sha: v3, why: expect.stringContaining('rolled back from') }]);
    expect(await serving(qaPort)).toBe('v1 hello-qa');

    const third = await cli.run(['rollback', 'qa']);
    expect(third.code).toBe(1);
    expect(third.stderr).toContain('nothing to roll back to');
    expect(third.stderr).toContain(s(v2));
    expect(third.stderr).toContain(s(v3));
    expect(third.stderr).toContain('gantry rollback qa --to <ref>');
    expect(await serving(qaPort)).toBe('v1 hello-qa');

    const named = await cli.run(['rollback', 'qa', '--to', v3]);
    expect(named.code).toBe(0);
    expect(named.stderr).toContain(
      `to ${s(v3)}: named with --to, although ${v3.slice(0, 12)} was rolled back from`,
    );
    expect(await serving(qaPort)).toBe('v3 hello-qa');

    // A full SHA of the history is taken as it is; anything else goes through git.
    const short = await cli.run(['rollback', 'qa', '--to', v2.slice(0, 10), '--json']);
    expect(short.code).toBe(0);
    expect(JSON.parse(short.stdout)).toMatchObject({ sha: v2, previousSha: v3 });
    expect(await serving(qaPort)).toBe('v2 hello-qa');
    const unknown = await cli.run(['rollback', 'qa', '--to', 'no-such-ref']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no-such-ref');
    expect(await serving(qaPort)).toBe('v2 hello-qa');
  });
});
