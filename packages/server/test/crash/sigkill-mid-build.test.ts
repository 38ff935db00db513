import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Build, GantryEvent } from '@gantry/contracts';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, createBareRepo, createWorkClone, makeTempDir } from '../support/git-fixtures.js';
import { alive, freePort, processApi, spawnServer } from '../support/server-process.js';
import { waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

const api = processApi;

describe('the server killed with SIGKILL in the middle of a build', () => {
  it('marks the build interrupted, stops its orphaned step, queues it again and loses nothing', async () => {
    const dataDir = await makeTempDir('gantry-crash-');
    const scratch = await makeTempDir('gantry-crash-scratch-');
    const mark = join(scratch, 'first-attempt');
    const pidFile = join(scratch, 'step.pid');
    const bare = await createBareRepo();
    const work = await createWorkClone(bare.url);
    const step = `if [ -f ${mark} ]; then echo second attempt; else touch ${mark}; echo $$ > ${pidFile}; sleep 120; fi`;
    await work.write(
      'gantry.yaml',
      `build:\n  steps:\n    - name: slow\n      run: ${JSON.stringify(step)}\n  artifact: { path: . }\n`,
    );
    const sha = await work.commit('first');
    await work.push();

    const port = await freePort();
    const first = await spawnServer(dataDir, port);
    const added = await api<{ buildIds: string[] }>(first, 'POST', '/api/apps', {
      name: 'shop',
      repoUrl: bare.dir,
    });
    const buildId = added.buildIds[0]!;
    await waitFor(async () => (existsSync(pidFile) ? true : undefined), 'the step to start');
    const eventsBefore = await api<GantryEvent[]>(first, 'GET', '/api/events?after=0');
    first.child.kill('SIGKILL');
    await first.exited;
    const stepPid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(alive(stepPid)).toBe(true); // the orphan outlives the server…

    const second = await spawnServer(dataDir, port);
    try {
      const interrupted = await waitFor(async () => {
        const b = await api<Build>(second, 'GET', `/api/builds/${buildId}`);
        return b.status === 'interrupted' ? b : undefined;
      }, 'the build to be marked interrupted');
      expect(interrupted.steps?.[0]?.status).toBe('cancelled');
      await waitFor(async () => (alive(stepPid) ? undefined : true), '…until the new server stops it');

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
