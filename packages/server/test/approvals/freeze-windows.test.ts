import type { Deployment } from '@gantry/contracts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { deployedTo, deploymentDone, serving } from '../support/deploy-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll, git } from '../support/git-fixtures.js';
import { freePort } from '../support/server-process.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import {
  call,
  createProtectedApp,
  eventsOf,
  productionHistory,
  protectedYaml,
  tokenFor,
} from './approval-fixture.js';

afterAll(cleanupAll);

/** Always in force, so the words are known: from 2000 to 2100. */
const frozen = `    freeze:
      - { cron: "0 16 * * FRI", duration: 64h, tz: Europe/Berlin, reason: weekend }
      - { from: 2000-01-01T00:00:00Z, until: 2100-01-01T00:00:00Z, reason: release party }
`;
const refusal =
  '"production" is frozen until 2100-01-01T00:00:00Z (Fri 1 Jan 2100 00:00 UTC) by the freeze window ' +
  '2000-01-01T00:00:00Z → 2100-01-01T00:00:00Z: release party. Rollbacks still run; an admin can override with `gantry deploy … --override --reason "<why>"` (recorded)';

describe.each(engines)('freeze windows on $name', (engine) => {
  let server: TestServer;
  afterEach(async () => server?.close());

  it('refuses new changes with the window and its reason, lets rollbacks through, and lets an admin break the glass', async () => {
    server = await startTestServer(engine);
    const ports = { qa: await freePort(), production: await freePort() };
    const app = await createProtectedApp(server, protectedYaml(ports, ''));
    await deployedTo(server, 'qa', app.v1);
    const deploy = (ref: string, extra: object = {}) =>
      server.api<Deployment & { message: string; details: { freeze: { reason: string; endsAt: string } } }>(
        'POST',
        '/api/apps/shop/deployments',
        { env: 'production', ref, ...extra },
      );
    const push = async (files: Record<string, string>, message: string) => {
      const sha = await app.pushFiles(files, message);
      await server.api('POST', '/api/apps/shop/sync');
      await deployedTo(server, 'qa', sha);
      return sha;
    };
    expect((await deploymentDone(server, (await deploy(app.v1)).body.id)).status).toBe('succeeded');
    const v2 = await push({ VERSION: 'v2' }, 'v2');
    expect((await deploymentDone(server, (await deploy(v2)).body.id)).status).toBe('succeeded');

    // main's head freezes production: its rules apply to every request, whatever commit it deploys.
    const v3 = await push({ 'gantry.yaml': protectedYaml(ports, frozen), VERSION: 'v3' }, 'v3: freeze');
    const before = (await productionHistory(server)).length;
    const refused = await deploy(v3);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toBe(refusal);
    expect(refused.body.details.freeze).toMatchObject({
      reason: 'release party',
      endsAt: '2100-01-01T00:00:00Z',
    });
    expect((await deploy(v2)).status).toBe(409);
    const tagged = await deploy(v3, { tag: true });
    expect(tagged.status).toBe(409);
    const dry = await server.api<{ refused: string }>('POST', '/api/apps/shop/deployments', {
      env: 'production',
      ref: v3,
      dryRun: true,
    });
    expect(dry.body.refused).toBe(refusal);
    expect((await productionHistory(server)).length).toBe(before);
    const remoteTags = async () =>
      (await git(['ls-remote', '--tags', app.bare.dir])).stdout
        .split('\n')
        .filter((l) => l.includes('deploy/'));
    expect(await remoteTags()).toEqual([]);

    // A pushed tag has no one to answer: its refusal is recorded, in the same words.
    await app.work.tag('deploy/production/v3');
    await app.work.run(['push', 'origin', 'deploy/production/v3']);
    await server.api('POST', '/api/apps/shop/sync');
    const [fromTag] = await productionHistory(server);
    expect(fromTag).toMatchObject({
      status: 'rejected',
      trigger: 'tag',
      tag: 'deploy/production/v3',
      error: refusal,
    });
    expect((await eventsOf(server, fromTag!.id)).map((e) => [e.type, e.data.reason])).toEqual([
      ['deployment.rejected', refusal],
    ]);
    expect((await remoteTags()).length).toBe(1);

    // Rollbacks are never blocked: back to the warm v1.
    const rb = await server.api<Deployment>('POST', '/api/apps/shop/environments/production/rollback', {});
    expect(rb.status).toBe(201);
    expect(await deploymentDone(server, rb.body.id)).toMatchObject({
      status: 'succeeded',
      sha: app.v1,
      kind: 'switch',
    });

    // Break-glass: an admin with a reason, recorded; a deployer or an empty reason is refused, before any tag.
    const [ops, root] = await Promise.all([tokenFor(server, 'ops', 'deployer'), tokenFor(server, 'root')]);
    const glass = (token: string, reason: string) =>
      call<Deployment & { message: string }>(server, token, 'POST', '/api/apps/shop/deployments', {
        env: 'production',
        ref: v3,
        tag: true,
        override: true,
        reason,
      });
    const denied = await glass(ops, 'hotfix');
    expect(denied.status).toBe(403);
    expect(denied.body.message).toMatch(/break-glass is for admins \(server:admin\); token:ops is not one/);
    const empty = await glass(root, '   ');
    expect(empty.status).toBe(400);
    expect(empty.body.message).toMatch(/break-glass needs a reason/);
    expect((await remoteTags()).length).toBe(1);
    const broken = await glass(root, 'hotfix for incident 7');
    expect(broken.status).toBe(201);
    const glassed = broken.body;
    expect(glassed.status).toBe('queued');
    expect(await deploymentDone(server, glassed.id)).toMatchObject({ status: 'succeeded', sha: v3 });
    expect(await serving(ports.production)).toBe('v3');
    const broke = (await eventsOf(server, glassed.id)).find((e) => e.type === 'deployment.break_glass');
    expect(broke).toMatchObject({
      actor: 'token:root',
      data: {
        reason: 'hotfix for incident 7',
        skipped: [
          'freeze 2000-01-01T00:00:00Z → 2100-01-01T00:00:00Z until 2100-01-01T00:00:00Z: release party',
        ],
      },
    });

    // An environment that asks for it holds rollbacks back too.
    await push({ 'gantry.yaml': protectedYaml(ports, `${frozen}    protect_rollbacks: true\n`) }, 'v4');
    const held = await server.api<{ message: string }>(
      'POST',
      '/api/apps/shop/environments/production/rollback',
      {},
    );
    expect(held.status).toBe(409);
    expect(held.body.message).toBe(refusal);
  });

  it('a freeze window that does not parse is reported with file:line:col', async () => {
    server = await startTestServer(engine);
    const ports = { qa: await freePort(), production: await freePort() };
    const app = await createProtectedApp(server, protectedYaml(ports, ''));
    await deployedTo(server, 'qa', app.v1);
    const bad = await app.pushFiles(
      {
        'gantry.yaml': protectedYaml(
          ports,
          `    freeze:
      - { cron: "0 25 * * FRI", duration: 64h, tz: Europe/Berlin, reason: weekend }
`,
        ),
      },
      'bad freeze',
    );
    await server.api('POST', '/api/apps/shop/sync');
    const res = await server.api<Deployment>('POST', '/api/apps/shop/deployments', {
      env: 'production',
      ref: bad,
    });
    expect(res.body.status).toBe('rejected');
    expect(res.body.error).toContain(
      `gantry.yaml at ${bad.slice(0, 12)} does not parse: gantry.yaml:14:17: environments.production.freeze[0].cron: "0 25 * * FRI" is not a cron expression (Invalid value for hour: 25)`,
    );
  });
  it('the approval that would release a request during a freeze is refused, naming the window', async () => {
    server = await startTestServer(engine);
    const ports = { qa: await freePort(), production: await freePort() };
    const approvals = '    approvals: { required: 1, from: ["token:bob"] }\n';
    const app = await createProtectedApp(server, protectedYaml(ports, approvals));
    await deployedTo(server, 'qa', app.v1);
    const [alice, bob] = await Promise.all([tokenFor(server, 'alice'), tokenFor(server, 'bob')]);
    const asked = await call<Deployment>(server, alice, 'POST', '/api/apps/shop/deployments', {
      env: 'production',
      ref: app.v1,
    });
    expect(asked.body.status).toBe('awaiting_approval');

    // main freezes production while the request waits.
    const v2 = await app.pushFiles(
      { 'gantry.yaml': protectedYaml(ports, `${approvals}${frozen}`) },
      'freeze',
    );
    await server.api('POST', '/api/apps/shop/sync');
    await deployedTo(server, 'qa', v2);
    const refused = await call<{ message: string }>(
      server,
      bob,
      'POST',
      `/api/deployments/${asked.body.id}/approve`,
      {},
    );
    expect(refused.status).toBe(409);
    expect(refused.body.message).toBe(`${refusal}; approve again when it ends`);
    const state = await call<{ status: string; approved: number }>(
      server,
      bob,
      'GET',
      `/api/deployments/${asked.body.id}/approvals`,
    );
    expect(state.body).toMatchObject({ status: 'awaiting_approval', approved: 0 });
  });
});
