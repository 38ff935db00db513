import type { GantryEvent } from '@gantry/contracts';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, finishedBuild, yamlWithSteps } from '../support/app-fixture.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { hostProcesses, uniqueSleep } from '../support/sandbox-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

describe('builds that go wrong', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(async () => server.close());

  it('a broken gantry.yaml fails the build with file:line:col', async () => {
    const app = await createApp(
      server,
      'build:\n  steps:\n    - name: a\n      run: 42\n  artifact: { path: . }\n',
    );
    const b = await finishedBuild(server, app.buildIds[0]!);
    expect(b.status).toBe('failed');
    expect(b.error).toContain('gantry.yaml:4:12: build.steps[0].run');
  });

  it('a commit without gantry.yaml fails with what to add', async () => {
    const app = await createApp(server, yamlWithSteps(['true']));
    await app.work.run(['rm', '-q', 'gantry.yaml']);
    await app.work.commit('drop config');
    await app.work.push();
    const res = await server.api<{ buildIds: string[] }>('POST', '/api/apps/shop/sync');
    const b = await finishedBuild(server, res.body.buildIds[0]!);
    expect(b.status).toBe('failed');
    expect(b.error).toMatch(/gantry.yaml not found at [0-9a-f]{12}: add one/);
  });

  it('a failing step fails the build with its exit code and last lines; later steps are skipped', async () => {
    const app = await createApp(server, yamlWithSteps(['echo one; echo two >&2; exit 3', 'echo never']));
    const b = await finishedBuild(server, app.buildIds[0]!);
    expect(b.status).toBe('failed');
    expect(b.exitCode).toBe(3);
    expect(b.error).toContain('step "s0" failed with exit code 3');
    expect(b.error).toContain('one\ntwo');
    expect(b.steps?.map((s) => s.status)).toEqual(['failed', 'skipped']);
  });

  it('a step that hangs past its timeout is stopped with its whole process tree', async () => {
    // A sandboxed step cannot touch the test's files, so its processes are looked for on the host.
    const [late, hang] = [uniqueSleep(3), uniqueSleep(30)];
    const yaml = `build:\n  steps:\n    - name: hang\n      run: "(sleep ${late} && true) & sleep ${hang}"\n      timeout: 1s\n  artifact: { path: . }\n`;
    const app = await createApp(server, yaml);
    await waitFor(async () => (hostProcesses(hang).length ? true : undefined), 'the step to start');
    expect(hostProcesses(late)).toHaveLength(1);
    const b = await finishedBuild(server, app.buildIds[0]!);
    expect(b.status).toBe('failed');
    expect(b.error).toContain('step "hang" timed out and was stopped');
    const left = () => [...hostProcesses(late), ...hostProcesses(hang)];
    // The 30 s sleep outlives this wait unless the stop reached the whole tree.
    await waitFor(async () => (left().length ? undefined : true), 'the whole tree to be stopped', 10_000);
  });

  it('a build past its SLO is flagged, and stopped at twice the SLO', async () => {
    const app = await createApp(server, yamlWithSteps(['sleep 30'], '  timeout: 1s\n'));
    const b = await finishedBuild(server, app.buildIds[0]!);
    expect(b.status).toBe('failed');
    expect(b.sloBreached).toBe(true);
    expect(b.error).toContain('exceeded twice its SLO');
    const { body: events } = await server.api<GantryEvent[]>('GET', `/api/events?subject=${b.id}`);
    expect(events.map((e) => e.type)).toContain('build.slo_breached');
  });

  it('cancel stops a running build', async () => {
    const app = await createApp(server, yamlWithSteps(['sleep 30']));
    const id = app.buildIds[0]!;
    await waitFor(async () => {
      const { body } = await server.api<{ steps: { status: string }[] }>('GET', `/api/builds/${id}`);
      return body.steps?.[0]?.status === 'running' ? true : undefined;
    }, 'step running');
    await server.api('POST', `/api/builds/${id}/cancel`);
    const b = await finishedBuild(server, id);
    expect(b.status).toBe('cancelled');
    expect(b.steps?.[0]?.status).toBe('cancelled');
  });

  it('an artifact path that the build did not make fails with a hint', async () => {
    const app = await createApp(
      server,
      'build:\n  steps: [{ name: a, run: "true" }]\n  artifact: { path: dist }\n',
    );
    const b = await finishedBuild(server, app.buildIds[0]!);
    expect(b.status).toBe('failed');
    expect(b.error).toContain('dist');
    expect(b.error).toContain('build.artifact.path');
  });

  it('an unknown ref is refused with a clear error and nothing is queued', async () => {
    await createApp(server, yamlWithSteps(['true']));
    const res = await server.api<{ message: string }>('POST', '/api/builds', {
      app: 'shop',
      ref: 'no-such-branch',
    });
    expect(res.status).toBe(404);
    expect(res.body.message).toContain('unknown ref "no-such-branch"');
    expect((await server.api<unknown[]>('GET', '/api/builds')).body).toHaveLength(1);
  });
});

describe('the build cache', () => {
  let server: TestServer;
  afterEach(async () => server.close());

  it('restores cached folders keyed by the lock file and misses when it changes', async () => {
    server = await startTestServer();
    const step =
      'if [ -f deps/marker ]; then echo HIT; else echo MISS; mkdir -p deps; echo x > deps/marker; fi';
    const app = await createApp(server, yamlWithSteps([step], '  cache: [deps]\n'));
    const log = async (id: string) => {
      await finishedBuild(server, id);
      return fetch(`${server.url}/api/builds/${id}/logs`, {
        headers: { authorization: `Bearer ${server.token}` },
      }).then((r) => r.text());
    };
    // no lock file at all: no cache key, so never cached
    expect(await log(app.buildIds[0]!)).toContain('MISS');
    const sync = async () =>
      (await server.api<{ buildIds: string[] }>('POST', '/api/apps/shop/sync')).body.buildIds[0]!;
    await app.pushFiles({ 'package-lock.json': '{"v":1}' });
    expect(await log(await sync())).toContain('MISS');
    await app.pushFiles({ 'src.txt': 'same lock file' });
    expect(await log(await sync())).toContain('HIT');
    await app.pushFiles({ 'package-lock.json': '{"v":2}' });
    expect(await log(await sync())).toContain('MISS');
  });
});
