import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Build, GantryEvent } from '@gantry/contracts';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { cleanupAll, createBareRepo, createWorkClone, makeTempDir } from '../support/git-fixtures.js';
import { hostProcesses, sandboxModes, uniqueSleep } from '../support/sandbox-fixtures.js';
import { alive, freePort, processApi, spawnServer } from '../support/server-process.js';
import { waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

const api = processApi;

describe.each(sandboxModes)('the server killed with SIGKILL in the middle of a build, sandbox %s', (mode) => {
  it('marks the build interrupted, stops its orphaned step, queues it again and loses nothing', async () => {
    const dataDir = await makeTempDir('gantry-crash-');
    // The step cannot see the test's files in a sandbox: it finds out it is the second attempt
    // because a port the test opens after the kill answers, and the test finds it by its sleep.
    const gatePort = await freePort();
    const sleep = uniqueSleep(120);
    const bare = await createBareRepo();
    const work = await createWorkClone(bare.url);
    const step = `if curl -fs http://127.0.0.1:${gatePort}/ >/dev/null; then echo second attempt; else sleep ${sleep}; fi`;
    await work.write(
      'gantry.yaml',
      `build:\n  steps:\n    - name: slow\n      run: ${JSON.stringify(step)}\n  artifact: { path: . }\n`,
    );
    const sha = await work.commit('first');
    await work.push();

    const port = await freePort();
    const env = { GANTRY_BUILDS_SANDBOX: mode };
    const first = await spawnServer(dataDir, port, env);
    const added = await api<{ buildIds: string[] }>(first, 'POST', '/api/apps', {
      name: 'shop',
      repoUrl: bare.dir,
    });
    const buildId = added.buildIds[0]!;
    const [stepPid] = await waitFor(async () => {
      const pids = hostProcesses(sleep);
      return pids.length ? pids : undefined;
    }, 'the step to start');
    const eventsBefore = await api<GantryEvent[]>(first, 'GET', '/api/events?after=0');
    first.child.kill('SIGKILL');
    await first.exited;
    if (mode === 'off')
      expect(alive(stepPid!)).toBe(true); // the orphan outlives the server…
    // …while a sandboxed step dies with it (bwrap --die-with-parent).
    else
      await waitFor(async () => (alive(stepPid!) ? undefined : true), 'the sandbox to die with the server');
    const gate = createServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
    await new Promise<void>((resolve) => gate.listen(gatePort, '127.0.0.1', resolve));
    onTestFinished(() => void gate.close());

    const second = await spawnServer(dataDir, port, env);
    try {
      const interrupted = await waitFor(async () => {
        const b = await api<Build>(second, 'GET', `/api/builds/${buildId}`);
        return b.status === 'interrupted' ? b : undefined;
      }, 'the build to be marked interrupted');
      expect(interrupted.steps?.[0]?.status).toBe('cancelled');
      await waitFor(async () => (alive(stepPid!) ? undefined : true), '…until the new server stops it');

      const retry = await waitFor(async () => {
        const all = await api<Build[]>(second, 'GET', '/api/builds?app=shop');
        return all.find((b) => b.id !== buildId && b.status === 'succeeded');
      }, 'the requeued build to succeed');
      expect(retry).toMatchObject({ sha, attempt: 2, reason: 'retry' });

      const eventsAfter = await api<GantryEvent[]>(second, 'GET', '/api/events?after=0');
      expect(eventsAfter.slice(0, eventsBefore.length)).toEqual(eventsBefore);
      expect(eventsAfter.map((e) => e.type)).toEqual(
        expect.arrayContaining([
          'build.interrupted',
          'build.requeued',
          'artifact.created',
          'build.succeeded',
        ]),
      );
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
    const db = new Database(join(dataDir, 'gantry.db'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});
