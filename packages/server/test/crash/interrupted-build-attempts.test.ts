import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Build, GantryEvent } from '@gantry/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, createBareRepo, createWorkClone, makeTempDir } from '../support/git-fixtures.js';
import { freePort, processApi, type ServerProcess, spawnServer } from '../support/server-process.js';
import { waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

const api = processApi;

describe('a build whose server keeps dying under it', () => {
  it('is queued again at most builds.max_attempts times, then failed with "interrupted N times"', async () => {
    const dataDir = await makeTempDir('gantry-attempts-');
    const bare = await createBareRepo();
    const work = await createWorkClone(bare.url);
    // The step marks its worktree (visible to the test through the sandbox too) and never ends.
    await work.write(
      'gantry.yaml',
      'build:\n  steps:\n    - name: hang\n      run: "touch started; sleep 600"\n  artifact: { path: . }\n',
    );
    const sha = await work.commit('first');
    await work.push();
    const env = { GANTRY_BUILDS_MAX_ATTEMPTS: '2' };
    const port = await freePort();

    const attempt = async (server: ServerProcess, n: number): Promise<Build> => {
      const build = await waitFor(async () => {
        const all = await api<Build[]>(server, 'GET', '/api/builds?app=shop');
        return all.find((b) => b.attempt === n && b.status === 'running');
      }, `attempt ${n} to run`);
      const started = join(dataDir, 'work', build.id, 'started');
      await waitFor(async () => (existsSync(started) ? true : undefined), `the step of attempt ${n}`);
      return build;
    };
    const kill = async (server: ServerProcess) => {
      server.child.kill('SIGKILL');
      await server.exited;
    };

    const first = await spawnServer(dataDir, port, env);
    await api(first, 'POST', '/api/apps', { name: 'shop', repoUrl: bare.dir });
    const one = await attempt(first, 1);
    await kill(first);

    const second = await spawnServer(dataDir, port, env);
    const two = await attempt(second, 2);
    expect(two).toMatchObject({ sha, reason: 'retry' });
    await kill(second);

    const third = await spawnServer(dataDir, port, env);
    try {
      const failed = await waitFor(async () => {
        const b = await api<Build>(third, 'GET', `/api/builds/${two.id}`);
        return b.status === 'failed' ? b : undefined;
      }, 'the second attempt to be failed');
      expect(failed.error).toMatch(/^interrupted 2 times/);
      expect(failed.steps?.[0]?.status).toBe('cancelled');
      expect((await api<Build>(third, 'GET', `/api/builds/${one.id}`)).status).toBe('interrupted');
      // Nothing is queued or running for it any more.
      const all = await api<Build[]>(third, 'GET', '/api/builds?app=shop');
      expect(all.map((b) => `${b.attempt}:${b.status}`).sort()).toEqual(['1:interrupted', '2:failed']);
      const events = await api<GantryEvent[]>(third, 'GET', '/api/events?after=0');
      expect(events.filter((e) => e.type === 'build.failed').map((e) => e.subject)).toEqual([two.id]);
      expect(events.filter((e) => e.type === 'build.requeued')).toHaveLength(1);
      // The server goes on serving.
      expect((await fetch(`${third.url}/healthz`)).status).toBe(200);
    } finally {
      third.child.kill('SIGTERM');
      expect(await third.exited).toBe(0);
    }
  });
});
