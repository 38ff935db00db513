import type { ApprovalState } from '@gantry/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { createProtectedApp, protectedYaml, tokenFor } from '../../server/test/approvals/approval-fixture.js';
import { deployedTo, deploymentDone, serving } from '../../server/test/support/deploy-fixture.js';
import { cleanupAll } from '../../server/test/support/git-fixtures.js';
import { freePort } from '../../server/test/support/server-process.js';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { type CliSandbox, makeCliSandbox } from './support/run-cli.js';

let server: TestServer | undefined;
let cli: CliSandbox | undefined;

afterAll(async () => {
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

describe('gantry approve, reject and approvals', () => {
  it('a deploy to a protected environment waits; status and history say so; an approver named in from approves it', async () => {
    server = await startTestServer();
    const ports = { qa: await freePort(), production: await freePort() };
    // `bob`, a bare name: the token named bob matches it while Gantry's people are tokens.
    const app = await createProtectedApp(
      server,
      protectedYaml(ports, '    approvals: { required: 1, from: [bob] }\n'),
    );
    await deployedTo(server, 'qa', app.v1);
    const [alice, bob] = await Promise.all([tokenFor(server, 'alice'), tokenFor(server, 'bob')]);
    cli = await makeCliSandbox({ GANTRY_URL: server.url });
    const as = (token: string) => ({ env: { GANTRY_TOKEN: token } });

    const asked = await cli.run(['deploy', 'production', app.v1, '--reason', 'ship v1'], as(alice!));
    expect(asked.code, asked.stderr).toBe(0);
    const id = asked.stdout.trim();
    expect(id).toMatch(/^dep_/);
    expect(asked.stderr).toContain(`deployment ${id} awaits approval before it runs in production (sha256:`);
    expect(asked.stderr).toContain(`\`gantry approve ${id}\``);

    const status = await cli.run(['status'], as(alice!));
    expect(status.stdout).toContain(`${id} (${app.v1.slice(0, 10)}) awaiting approval 0 of 1`);
    const history = await cli.run(['history', 'production'], as(alice!));
    expect(history.stdout).toMatch(new RegExp(`${id}\\s+${app.v1.slice(0, 10)}.*awaiting approval`));
    const pending = await cli.json<ApprovalState[]>(['approvals', '--app', 'shop', '--json'], as(alice!));
    expect(pending.map((p) => [p.deploymentId, p.requester, p.approved, p.required])).toEqual([
      [id, 'token:alice', 0, 1],
    ]);
    const listed = await cli.run(['approvals'], as(alice!));
    expect(listed.stdout).toMatch(/^DEPLOYMENT\s+APP\s+ENV\s+SHA\s+DIGEST\s+ASKED\s+APPROVALS\s+FROM$/m);
    expect(listed.stdout).toMatch(
      new RegExp(`${id}\\s+shop\\s+production\\s+.*token:alice\\s+0 of 1\\s+bob`),
    );

    const outsider = await cli.run(['approve', id], as(alice!));
    expect(outsider.code).toBe(1);
    expect(outsider.stderr).toContain('token:alice may not approve deployments to "production"');
    const silent = await cli.run(['reject', id], as(bob!));
    expect(silent.code).toBe(1);
    expect(silent.stderr).toContain('a rejection needs a comment saying why');
    const glass = await cli.run(['deploy', 'production', app.v1, '--override'], as(alice!));
    expect(glass.code).toBe(1);
    expect(glass.stderr).toContain('--override needs --reason');

    const approved = await cli.run(['approve', id, '-m', 'checked the diff'], as(bob!));
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`approved deployment ${id}: 1 of 1 (token:bob); it is queued`);
    expect((await deploymentDone(server, id)).status).toBe('succeeded');
    expect(await serving(ports.production)).toBe('v1');

    const one = await cli.run(['approvals', id], as(alice!));
    expect(one.stdout).toContain(`deployment ${id}: shop/production ← ${app.v1.slice(0, 10)}`);
    expect(one.stdout).toContain(
      'asked by token:alice; approvals 1 of 1 (token:bob), from bob; not by the requester',
    );
    expect(one.stdout).toMatch(/token:bob\s+approved\s+\S+ ago\s+yes\s+checked the diff/);
    expect((await cli.run(['approvals'], as(alice!))).stdout).toBe('nothing waits for approval\n');
    const late = await cli.run(['reject', id, '-m', 'too late'], as(bob!));
    expect(late.code).toBe(1);
    expect(late.stderr).toContain(`deployment ${id} no longer waits for approval: it is succeeded`);
  });
});
