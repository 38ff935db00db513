import type { ApprovalState, Build, Deployment } from '@gantry/contracts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { finishedBuild } from '../support/app-fixture.js';
import { deployedTo, deploymentDone, serving } from '../support/deploy-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
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

const approvals = `    approvals: { required: 2, from: ["token:alice", "token:bob", "token:carol"], expires: 24h }
`;

describe.each(engines)('approvals on $name', (engine) => {
  let server: TestServer;
  afterEach(async () => server?.close());

  it('a request waits for two distinct approvers of its digest; not the requester, not outsiders, not expired approvals', async () => {
    server = await startTestServer(engine);
    const ports = { qa: await freePort(), production: await freePort() };
    const app = await createProtectedApp(server, protectedYaml(ports, approvals));
    await deployedTo(server, 'qa', app.v1);
    const [alice, bob, carol, dave] = await Promise.all(
      ['alice', 'bob', 'carol', 'dave'].map((n) => tokenFor(server, n)),
    );

    const asked = await call<Deployment>(server, alice!, 'POST', '/api/apps/shop/deployments', {
      env: 'production',
      ref: 'HEAD',
      reason: 'ship v1',
    });
    expect(asked.status).toBe(201);
    expect(asked.body).toMatchObject({ status: 'awaiting_approval', sha: app.v1, actor: 'token:alice' });
    const id = asked.body.id;
    const digest = asked.body.digest!;
    expect(digest).toMatch(/^sha256:/);
    const path = `/api/deployments/${id}`;

    const pending = await call<ApprovalState[]>(
      server,
      dave!,
      'GET',
      '/api/approvals?app=shop&env=production',
    );
    expect(pending.body.map((s) => [s.deploymentId, s.approved, s.required])).toEqual([[id, 0, 2]]);
    expect(
      (await call<ApprovalState[]>(server, dave!, 'GET', '/api/approvals?app=shop&env=qa')).body,
    ).toEqual([]);
    const waiting = await call<ApprovalState>(server, dave!, 'GET', `${path}/approvals`);
    expect(waiting.body).toMatchObject({
      status: 'awaiting_approval',
      requester: 'token:alice',
      required: 2,
      approved: 0,
      digest,
      expiresMs: 24 * 3_600_000,
      approvals: [],
    });

    const self = await call<{ message: string }>(server, alice!, 'POST', `${path}/approve`, {});
    expect(self.status).toBe(403);
    expect(self.body.message).toContain('token:alice asked for deployment');
    const outsider = await call<{ message: string }>(server, dave!, 'POST', `${path}/approve`, {});
    expect(outsider.status).toBe(403);
    expect(outsider.body.message).toContain('its approvals come from token:alice, token:bob, token:carol');

    const first = await call<ApprovalState>(server, bob!, 'POST', `${path}/approve`, {
      comment: 'looks good',
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'awaiting_approval', approved: 1 });
    expect(first.body.approvals).toMatchObject([
      { approver: 'token:bob', verdict: 'approved', digest, comment: 'looks good', counts: true, why: null },
    ]);
    expect((await call(server, bob!, 'POST', `${path}/approve`, {})).status).toBe(409);
    const stale = await call<{ message: string }>(server, carol!, 'POST', `${path}/approve`, {
      digest: 'sha256:0000',
    });
    expect(stale.status).toBe(409);
    expect(stale.body.message).toContain(`deploys ${digest}, not sha256:0000, which you reviewed`);

    // Bob's approval is a day old now: it no longer counts, so Carol's alone is not enough.
    await server.gantry.database.db
      .updateTable('approvals')
      .set({ created_at: new Date(Date.now() - 25 * 3_600_000).toISOString() })
      .where('approver', '=', 'token:bob')
      .execute();
    const second = await call<ApprovalState>(server, carol!, 'POST', `${path}/approve`, {});
    expect(second.body).toMatchObject({ status: 'awaiting_approval', approved: 1 });
    expect(second.body.approvals.map((a) => [a.approver, a.counts, a.why])).toEqual([
      ['token:bob', false, 'expired: older than 24h'],
      ['token:carol', true, null],
    ]);
    expect((await server.api<Deployment>('GET', path)).body).toMatchObject({
      status: 'awaiting_approval',
      approval: {
        requester: 'token:alice',
        required: 2,
        approved: 1,
        approvers: ['token:carol'],
        supersededBy: null,
      },
    });

    const third = await call<ApprovalState>(server, bob!, 'POST', `${path}/approve`, { comment: 'again' });
    expect(third.status).toBe(200);
    expect(third.body.approved).toBe(2);
    const done = await deploymentDone(server, id);
    expect(done).toMatchObject({ status: 'succeeded', digest, sha: app.v1 });
    expect(await serving(ports.production)).toBe('v1');

    const types = (await eventsOf(server, id)).map((e) => [e.type, e.actor]);
    expect(types.slice(0, 6)).toEqual([
      ['approval.requested', 'token:alice'],
      ['approval.approved', 'token:bob'],
      ['approval.approved', 'token:carol'],
      ['approval.approved', 'token:bob'],
      ['deployment.approved', 'gantry'],
      ['deployment.queued', 'token:alice'],
    ]);
    const given = (await eventsOf(server, id)).find((e) => e.type === 'approval.approved');
    expect(given?.data).toMatchObject({
      env: 'production',
      digest,
      comment: 'looks good',
      approved: 1,
      required: 2,
    });
    const late = await call<{ message: string }>(server, carol!, 'POST', `${path}/approve`, {});
    expect(late.status).toBe(409);
    expect(late.body.message).toContain(`deployment ${id} no longer waits for approval: it is succeeded`);
  });

  it('an approval is for one digest: a rebuilt artifact starts again; a superseded request says which replaced it; one rejection rejects', async () => {
    server = await startTestServer(engine);
    const ports = { qa: await freePort(), production: await freePort() };
    const app = await createProtectedApp(server, protectedYaml(ports, approvals, { stamp: true }));
    await deployedTo(server, 'qa', app.v1);
    const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((n) => tokenFor(server, n)));

    const first = await call<Deployment>(server, alice!, 'POST', '/api/apps/shop/deployments', {
      env: 'production',
      ref: app.v1,
    });
    expect(first.body.status).toBe('awaiting_approval');
    expect((await call(server, bob!, 'POST', `/api/deployments/${first.body.id}/approve`, {})).status).toBe(
      200,
    );

    // The same commit built again is another artifact (the build writes its time into it).
    const rebuilt = await server.api<{ build: Build }>('POST', '/api/builds', {
      app: 'shop',
      ref: app.v1,
      rebuild: true,
    });
    expect((await finishedBuild(server, rebuilt.body.build.id)).status).toBe('succeeded');
    const second = await call<Deployment>(server, carol!, 'POST', '/api/apps/shop/deployments', {
      env: 'production',
      ref: app.v1,
    });
    expect(second.body).toMatchObject({ status: 'awaiting_approval', sha: app.v1 });
    expect(second.body.digest).not.toBe(first.body.digest);

    const replaced = await server.api<Deployment>('GET', `/api/deployments/${first.body.id}`);
    expect(replaced.body.status).toBe('superseded');
    const fresh = await call<ApprovalState>(
      server,
      alice!,
      'GET',
      `/api/deployments/${second.body.id}/approvals`,
    );
    expect(fresh.body).toMatchObject({ approved: 0, requester: 'token:carol', digest: second.body.digest });
    const old = await call<ApprovalState>(
      server,
      alice!,
      'GET',
      `/api/deployments/${first.body.id}/approvals`,
    );
    expect(old.body).toMatchObject({ status: 'superseded', supersededBy: second.body.id, approved: 1 });

    const late = await call<{ message: string; details: unknown }>(
      server,
      carol!,
      'POST',
      `/api/deployments/${first.body.id}/approve`,
      {},
    );
    expect(late.status).toBe(409);
    expect(late.body.message).toContain(`request ${second.body.id} replaced it`);
    expect(late.body.details).toEqual({ supersededBy: second.body.id });
    const reviewedOld = await call(server, alice!, 'POST', `/api/deployments/${second.body.id}/approve`, {
      digest: first.body.digest,
    });
    expect(reviewedOld.status).toBe(409);

    const noReason = await call<{ message: string }>(
      server,
      bob!,
      'POST',
      `/api/deployments/${second.body.id}/reject`,
      { comment: '  ' },
    );
    expect(noReason.status).toBe(400);
    expect(noReason.body.message).toContain('a rejection needs a comment');
    expect(
      (await call(server, alice!, 'POST', `/api/deployments/${second.body.id}/approve`, {})).status,
    ).toBe(200);
    const rejected = await call<ApprovalState>(
      server,
      bob!,
      'POST',
      `/api/deployments/${second.body.id}/reject`,
      {
        comment: 'not before the sale ends',
      },
    );
    expect(rejected.status).toBe(200);
    expect(rejected.body.status).toBe('rejected');
    const row = await server.api<Deployment>('GET', `/api/deployments/${second.body.id}`);
    expect(row.body).toMatchObject({
      status: 'rejected',
      error: 'rejected by token:bob: not before the sale ends',
    });
    const rejections = (await eventsOf(server, second.body.id)).filter((e) => e.type.endsWith('rejected'));
    expect(rejections.map((e) => [e.type, e.actor, e.data.comment])).toEqual([
      ['approval.rejected', 'token:bob', 'not before the sale ends'],
      ['deployment.rejected', 'token:bob', 'not before the sale ends'],
    ]);
    expect(rejections[1]).toMatchObject({
      actor: 'token:bob',
      data: { comment: 'not before the sale ends', by: 'token:bob', digest: second.body.digest },
    });
    expect(
      (await call(server, carol!, 'POST', `/api/deployments/${second.body.id}/approve`, {})).status,
    ).toBe(409);
    // Nothing ran: production never served.
    expect(
      (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=production')).body.map(
        (d) => d.status,
      ),
    ).toEqual(['rejected', 'superseded']);
  });
  it("a rollback never waits and leaves waiting requests alone; a request past `expires` stops; break-glass is an admin's, with a reason", async () => {
    server = await startTestServer(engine);
    const ports = { qa: await freePort(), production: await freePort() };
    const one = `    approvals: { required: 1, from: ["token:bob"], expires: 1h }\n`;
    const app = await createProtectedApp(server, protectedYaml(ports, one));
    await deployedTo(server, 'qa', app.v1);
    const [alice, bob, ops] = await Promise.all([
      tokenFor(server, 'alice'),
      tokenFor(server, 'bob'),
      tokenFor(server, 'ops', 'deployer'),
    ]);
    const ask = async (sha: string) =>
      (
        await call<Deployment>(server, alice!, 'POST', '/api/apps/shop/deployments', {
          env: 'production',
          ref: sha,
        })
      ).body;
    const approved = async (sha: string) => {
      const d = await ask(sha);
      expect(d.status).toBe('awaiting_approval');
      expect((await call(server, bob!, 'POST', `/api/deployments/${d.id}/approve`, {})).status).toBe(200);
      expect((await deploymentDone(server, d.id)).status).toBe('succeeded');
    };
    const push = async (version: string) => {
      const sha = await app.pushFiles({ VERSION: version }, version);
      await server.api('POST', '/api/apps/shop/sync');
      await deployedTo(server, 'qa', sha);
      return sha;
    };
    await approved(app.v1);
    const v2 = await push('v2');
    await approved(v2);
    const v3 = await push('v3');
    const waiting = await ask(v3);
    expect(waiting.status).toBe('awaiting_approval');

    // Back to v1 at once, past the approvals; v3's request still waits for Bob.
    const rb = await call<Deployment>(
      server,
      alice!,
      'POST',
      '/api/apps/shop/environments/production/rollback',
      {},
    );
    expect(rb.status).toBe(201);
    expect(rb.body.status).toBe('queued');
    expect(await deploymentDone(server, rb.body.id)).toMatchObject({
      status: 'succeeded',
      sha: app.v1,
      kind: 'switch',
    });
    expect(await serving(ports.production)).toBe('v1');
    expect((await eventsOf(server, rb.body.id)).map((e) => e.type)).not.toContain('approval.requested');
    expect((await server.api<Deployment>('GET', `/api/deployments/${waiting.id}`)).body.status).toBe(
      'awaiting_approval',
    );

    // An hour later nobody approved it: it stops, and says why.
    await server.gantry.database.db
      .updateTable('approval_requests')
      .set({ created_at: new Date(Date.now() - 2 * 3_600_000).toISOString() })
      .where('deployment_id', '=', waiting.id)
      .execute();
    expect((await call<ApprovalState[]>(server, bob!, 'GET', '/api/approvals?app=shop')).body).toEqual([]);
    const expired = (await server.api<Deployment>('GET', `/api/deployments/${waiting.id}`)).body;
    expect(expired.status).toBe('rejected');
    expect(expired.error).toMatch(/^expired: not approved within 1h \(approvals\.expires\)/);
    const late = await call<{ message: string }>(
      server,
      bob!,
      'POST',
      `/api/deployments/${waiting.id}/approve`,
      {},
    );
    expect(late.status).toBe(409);
    expect(late.body.message).toContain('no longer waits for approval: it is rejected (expired');
    expect((await eventsOf(server, waiting.id)).at(-1)).toMatchObject({
      type: 'deployment.rejected',
      actor: 'gantry',
      data: { expired: true },
    });

    // Break-glass skips the approvals: not for a deployer, not without a reason, recorded with it.
    const glass = (token: string, reason?: string) =>
      call<Deployment & { message: string }>(server, token, 'POST', '/api/apps/shop/deployments', {
        env: 'production',
        ref: v3,
        override: true,
        ...(reason === undefined ? {} : { reason }),
      });
    const denied = await glass(ops!, 'hotfix');
    expect(denied.status).toBe(403);
    expect(denied.body.message).toContain('break-glass is for admins (server:admin); token:ops is not one');
    const unexplained = await glass(alice!, ' ');
    expect(unexplained.status).toBe(400);
    expect(unexplained.body.message).toContain('break-glass needs a reason');
    const broken = await glass(alice!, 'incident 9: v1 leaks memory');
    expect(broken.status).toBe(201);
    expect(broken.body.status).toBe('queued');
    expect(await deploymentDone(server, broken.body.id)).toMatchObject({ status: 'succeeded', sha: v3 });
    expect(await serving(ports.production)).toBe('v3');
    expect(
      (await eventsOf(server, broken.body.id)).find((e) => e.type === 'deployment.break_glass'),
    ).toMatchObject({
      actor: 'token:alice',
      data: { reason: 'incident 9: v1 leaks memory', skipped: ['approvals: 1 from token:bob'] },
    });
    expect(
      (await productionHistory(server)).filter((d) => d.status !== 'succeeded').map((d) => [d.sha, d.status]),
    ).toEqual([[v3, 'rejected']]);
  });
});
