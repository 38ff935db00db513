import { createHmac } from 'node:crypto';
import type { Commit } from '@gantry/contracts';
import { afterAll, afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { installPostReceiveHook } from '../../src/git/post-receive-hook.js';
import { buildsOf, createApp, finishedBuild, yamlWithSteps } from '../support/app-fixture.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { httpGate } from '../support/sandbox-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

interface PushRow {
  beforeSha: string | null;
  afterSha: string;
  forced: boolean;
  source: string;
  commitCount: number;
  dropped: string[];
}

describe('seeing commits', () => {
  let server: TestServer;
  afterEach(async () => server.close());

  it('records every commit of a multi-commit push and builds only the newest head by default', async () => {
    server = await startTestServer();
    const app = await createApp(server, yamlWithSteps(['sleep 1']));
    const shas: string[] = [];
    for (const n of [1, 2, 3]) {
      await app.work.write('f', String(n));
      shas.push(await app.work.commit(`commit ${n}`, { author: `Dev ${n} <dev${n}@example.com>` }));
    }
    await app.work.push();
    const sync = await server.api<{ newCommits: string[]; buildIds: string[] }>(
      'POST',
      '/api/apps/shop/sync',
    );
    expect(sync.body.newCommits).toEqual(shas);
    expect(sync.body.buildIds).toHaveLength(1);
    const { body: commits } = await server.api<Commit[]>('GET', '/api/apps/shop/commits');
    const byId = new Map(commits.map((c) => [c.sha, c]));
    expect(byId.get(shas[1]!)?.authorName).toBe('Dev 2');
    expect(byId.get(shas[1]!)?.parents).toEqual([shas[0]]);
    expect(byId.get(shas[2]!)?.message).toBe('commit 3');
    const built = await finishedBuild(server, sync.body.buildIds[0]!);
    expect(built.sha).toBe(shas[2]);
  });

  it('with build.mode every, builds each new commit', async () => {
    server = await startTestServer();
    const app = await createApp(server, yamlWithSteps(['true'], '  mode: every\n'));
    await finishedBuild(server, app.buildIds[0]!);
    const shas = [await app.pushFiles({ a: '1' }), await app.pushFiles({ a: '2' })];
    const sync = await server.api<{ buildIds: string[] }>('POST', '/api/apps/shop/sync');
    expect(sync.body.buildIds).toHaveLength(2);
    const builds = await Promise.all(sync.body.buildIds.map((id) => finishedBuild(server, id)));
    expect(builds.map((b) => b.sha).sort()).toEqual([...shas].sort());
    expect(builds.every((b) => b.status === 'succeeded')).toBe(true);
  });

  it('in latest mode a newer head supersedes queued builds', async () => {
    server = await startTestServer();
    // every build waits for the gate, so the first one is surely still running while two more heads arrive
    const gate = await httpGate();
    onTestFinished(() => gate.close());
    const app = await createApp(server, yamlWithSteps([gate.waitCommand()]));
    await app.pushFiles({ a: '1' });
    await server.api('POST', '/api/apps/shop/sync');
    await app.pushFiles({ a: '2' });
    await server.api('POST', '/api/apps/shop/sync');
    gate.open();
    const all = await waitFor(async () => {
      const b = await buildsOf(server);
      return b.length === 3 && b.every((x) => ['succeeded', 'superseded'].includes(x.status)) ? b : undefined;
    }, 'builds to settle');
    expect(all.map((b) => b.status)).toEqual(['succeeded', 'superseded', 'succeeded']);
  });

  it('records a force-push that rewrites main, with the commits it dropped', async () => {
    server = await startTestServer();
    const app = await createApp(server, yamlWithSteps(['true']));
    const base = (await app.work.run(['rev-parse', 'HEAD'])).stdout.trim();
    const lost = await app.pushFiles({ a: 'will be dropped' });
    await server.api('POST', '/api/apps/shop/sync');
    await app.work.run(['reset', '-q', '--hard', base]);
    await app.work.write('b', 'rewritten');
    const rewritten = await app.work.commit('rewritten history');
    await app.work.push('main', { force: true });
    await server.api('POST', '/api/apps/shop/sync');
    const { body: pushes } = await server.api<PushRow[]>('GET', '/api/apps/shop/pushes');
    expect(pushes[0]).toMatchObject({ beforeSha: lost, afterSha: rewritten, forced: true, dropped: [lost] });
    expect(pushes[1]).toMatchObject({ afterSha: lost, forced: false });
    const { body: commits } = await server.api<Commit[]>('GET', '/api/apps/shop/commits');
    expect(commits.map((c) => c.sha)).toEqual(expect.arrayContaining([lost, rewritten]));
  });

  it('a post-receive hook starts a build on push', async () => {
    server = await startTestServer();
    const app = await createApp(server, yamlWithSteps(['true']));
    await finishedBuild(server, app.buildIds[0]!);
    const { body } = await server.api<{ token: string }>('POST', '/api/apps/shop/hook-token');
    await installPostReceiveHook(app.bare.dir, { serverUrl: server.url, app: 'shop', token: body.token });
    const sha = await app.pushFiles({ x: 'hooked' });
    const build = await waitFor(
      async () => (await buildsOf(server)).find((b) => b.sha === sha),
      'hooked build',
    );
    expect((await finishedBuild(server, build.id)).status).toBe('succeeded');
    const { body: pushes } = await server.api<PushRow[]>('GET', '/api/apps/shop/pushes');
    expect(pushes[0]).toMatchObject({ afterSha: sha, source: 'hook' });
    // the hook token can notify pushes but nothing else: a known token, not allowed here (403)
    const denied = await fetch(`${server.url}/api/apps`, {
      headers: { authorization: `Bearer ${body.token}` },
    });
    expect(denied.status).toBe(403);
  });

  it('polling sees a push when no hook is installed', async () => {
    server = await startTestServer();
    const app = await createApp(server, yamlWithSteps(['true']), { pollIntervalMs: 200 });
    const sha = await app.pushFiles({ x: 'polled' });
    const build = await waitFor(
      async () => (await buildsOf(server)).find((b) => b.sha === sha),
      'polled build',
    );
    expect(build.reason).toBe('push');
    const { body: pushes } = await server.api<PushRow[]>('GET', '/api/apps/shop/pushes');
    expect(pushes[0]).toMatchObject({ afterSha: sha, source: 'poll' });
  });

  it('two notifications racing for one push record it once and build it once', async () => {
    server = await startTestServer();
    const app = await createApp(server, yamlWithSteps(['true']));
    const sha = await app.pushFiles({ x: 'race' });
    await Promise.all([
      server.api('POST', '/api/hooks/git', { app: 'shop' }),
      server.api('POST', '/api/apps/shop/sync'),
      server.api('POST', '/api/hooks/git', { app: 'shop' }),
      server.api('POST', '/api/apps/shop/sync'),
    ]);
    await waitFor(
      async () => ((await buildsOf(server)).some((b) => b.sha === sha) ? true : undefined),
      'build',
    );
    await new Promise((r) => setTimeout(r, 300));
    const { body: pushes } = await server.api<PushRow[]>('GET', '/api/apps/shop/pushes');
    expect(pushes.filter((p) => p.afterSha === sha)).toHaveLength(1);
    expect((await buildsOf(server)).filter((b) => b.sha === sha)).toHaveLength(1);
  });
});

describe('webhooks', () => {
  let server: TestServer;
  afterEach(async () => server.close());

  function githubPush(repoUrl: string, before: string, after: string): string {
    return JSON.stringify({
      ref: 'refs/heads/main',
      before,
      after,
      created: false,
      deleted: false,
      forced: false,
      repository: { full_name: 'acme/shop', clone_url: repoUrl, ssh_url: repoUrl, html_url: repoUrl },
      pusher: { name: 'octocat' },
      commits: [],
    });
  }

  it('a GitHub push signed with the app secret starts a build; a wrong signature is 401 and queues nothing', async () => {
    server = await startTestServer();
    const app = await createApp(server, yamlWithSteps(['true']));
    await finishedBuild(server, app.buildIds[0]!);
    const { body: secret } = await server.api<{ webhookSecret: string }>(
      'GET',
      '/api/apps/shop/webhook-secret',
    );
    const before = (await app.work.run(['rev-parse', 'HEAD'])).stdout.trim();
    const sha = await app.pushFiles({ w: '1' });
    const payload = githubPush(app.bare.dir, before, sha);
    const send = (signature: string) =>
      fetch(`${server.url}/api/webhooks/github`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-hub-signature-256': signature,
        },
        body: payload,
      });

    const forged = await send(`sha256=${createHmac('sha256', 'wrong-secret').update(payload).digest('hex')}`);
    expect(forged.status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect((await buildsOf(server)).filter((b) => b.sha === sha)).toHaveLength(0);
    const { body: pushesAfterForgery } = await server.api<PushRow[]>('GET', '/api/apps/shop/pushes');
    expect(pushesAfterForgery.some((p) => p.afterSha === sha)).toBe(false);

    const good = await send(
      `sha256=${createHmac('sha256', secret.webhookSecret).update(payload).digest('hex')}`,
    );
    expect(good.status).toBe(202);
    const build = await waitFor(
      async () => (await buildsOf(server)).find((b) => b.sha === sha),
      'webhook build',
    );
    expect(build.requestedBy).toBe('github:octocat');
  });

  it('a GitLab push with the right token starts a build', async () => {
    server = await startTestServer();
    const app = await createApp(server, yamlWithSteps(['true']));
    const { body: secret } = await server.api<{ webhookSecret: string }>(
      'GET',
      '/api/apps/shop/webhook-secret',
    );
    const sha = await app.pushFiles({ g: '1' });
    const res = await fetch(`${server.url}/api/webhooks/gitlab?app=shop`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-gitlab-event': 'Push Hook',
        'x-gitlab-token': secret.webhookSecret,
      },
      body: JSON.stringify({
        object_kind: 'push',
        ref: 'refs/heads/main',
        before: '0'.repeat(40),
        after: sha,
        checkout_sha: sha,
        user_username: 'dev',
        project: { git_http_url: app.bare.dir, git_ssh_url: app.bare.dir, web_url: app.bare.dir },
        commits: [],
      }),
    });
    expect(res.status).toBe(202);
    await waitFor(async () => (await buildsOf(server)).find((b) => b.sha === sha), 'gitlab build');
  });
});
