import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Artifact, Build } from '@gantry/contracts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildsOf, createApp, finishedBuild, yamlWithSteps } from '../support/app-fixture.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';
import { githubExamples } from '../webhooks/github-examples.js';

afterAll(cleanupAll);

describe('runner concurrency, pruning and real webhook payloads', () => {
  let server: TestServer;
  afterEach(async () => server.close());

  it('runs runner.concurrency builds at once', async () => {
    server = await startTestServer(undefined, { runnerConcurrency: 2 });
    const app = await createApp(server, yamlWithSteps(['sleep 1'], '  mode: every\n'));
    await app.pushFiles({ a: '1' });
    await app.pushFiles({ a: '2' });
    await server.api('POST', '/api/apps/shop/sync');
    const builds = await waitFor(async () => {
      const all = await buildsOf(server);
      return all.length === 3 && all.every((b) => b.status === 'succeeded') ? all : undefined;
    }, 'three builds');
    const spans = builds.map((b) => [Date.parse(b.startedAt!), Date.parse(b.finishedAt!)] as const);
    const overlapping = spans.some(([s1, e1], i) => spans.some(([s2], j) => i !== j && s2 >= s1 && s2 < e1));
    expect(overlapping).toBe(true);
  });

  it('prune removes replaced artifacts and their blobs, and keeps the newest per app', async () => {
    server = await startTestServer();
    const app = await createApp(server, yamlWithSteps(['echo $GANTRY_BUILD_ID > id.txt']));
    const first = await finishedBuild(server, app.buildIds[0]!);
    const re = await server.api<{ build: Build }>('POST', '/api/builds', {
      app: 'shop',
      ref: 'HEAD',
      rebuild: true,
    });
    const second = await finishedBuild(server, re.body.build.id);
    await app.pushFiles({ b: '1' });
    const third = await finishedBuild(
      server,
      (await server.api<{ buildIds: string[] }>('POST', '/api/apps/shop/sync')).body.buildIds[0]!,
    );
    const byId = async (id: string) => (await server.api<Artifact>('GET', `/api/artifacts/${id}`)).body;
    const replaced = await byId(first.artifactId!);
    const blob = join(server.dataDir, 'artifacts', 'sha256', `${replaced.digest.slice(7)}.tar.gz`);
    expect(existsSync(blob)).toBe(true);

    const dry = await server.api<{ pruned: Artifact[] }>('POST', '/api/artifacts/prune', { dryRun: true });
    expect(dry.body.pruned.map((a) => a.id)).toEqual([first.artifactId]);
    expect(existsSync(blob)).toBe(true);

    const res = await server.api<{ pruned: Artifact[]; kept: number }>('POST', '/api/artifacts/prune', {
      keepPerApp: 1,
    });
    expect(res.body.pruned.map((a) => a.id).sort()).toEqual([first.artifactId, second.artifactId].sort());
    expect(existsSync(blob)).toBe(false);
    expect((await byId(third.artifactId!)).prunedAt).toBeNull();
    const download = await fetch(`${server.url}/api/artifacts/${second.artifactId}/download`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    expect(download.status).toBe(404);
    expect(((await download.json()) as { message: string }).message).toContain('--rebuild');
  });

  it('accepts the real GitHub push payloads through the route, signed as GitHub signs them', async () => {
    server = await startTestServer();
    await createApp(server, yamlWithSteps(['true']));
    const { body: secret } = await server.api<{ webhookSecret: string }>(
      'GET',
      '/api/apps/shop/webhook-secret',
    );
    const examples = githubExamples('push');
    expect(examples.length).toBeGreaterThan(3);
    for (const ex of examples) {
      const body = JSON.stringify(ex.payload);
      const sig = `sha256=${createHmac('sha256', secret.webhookSecret).update(body).digest('hex')}`;
      const res = await fetch(`${server.url}/api/webhooks/github?app=shop`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': sig },
        body,
      });
      const answer = (await res.json()) as { accepted: boolean; reason?: string };
      const ref = String(ex.payload.ref);
      if (ref === 'refs/heads/main' || ref.startsWith('refs/tags/')) {
        expect([res.status, answer.accepted]).toEqual([202, true]);
      } else {
        expect([res.status, answer.reason]).toEqual([200, expect.stringContaining('neither the app')]);
      }
      const tampered = await fetch(`${server.url}/api/webhooks/github?app=shop`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': sig },
        body: `${body} `,
      });
      expect(tampered.status).toBe(401);
    }
  });
});
