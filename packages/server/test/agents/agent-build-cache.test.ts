import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createApp, finishedBuild, yamlWithSteps } from '../support/app-fixture.js';
import { cleanupAll, makeTempDir } from '../support/git-fixtures.js';
import { HAS_BWRAP } from '../support/sandbox-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { type AgentProcess, spawnAgent } from './agent-fixture.js';

afterAll(cleanupAll);

describe('the build cache on an agent machine (SQLite)', () => {
  let server: TestServer;
  let agent: AgentProcess | undefined;
  afterEach(async () => {
    agent?.child.kill('SIGKILL');
    await agent?.exited;
    agent = undefined;
    await server?.close();
  });

  it("keeps build.cache folders in the agent's work dir, keyed by the lock files as on the servers", async () => {
    server = await startTestServer();
    const made = await server.api<{ token: string }>('POST', '/api/agents/tokens', { labels: ['cached'] });
    const workDir = await makeTempDir('gantry-agent-cache-');
    agent = await spawnAgent(
      server.url,
      made.body.token,
      ['--labels', 'cached', ...(HAS_BWRAP ? ['--sandbox', 'bwrap'] : [])],
      workDir,
    );
    const step =
      'if [ -f deps/marker ]; then echo "HIT $(cat deps/marker)"; else echo MISS; mkdir -p deps; v=$(cat VERSION 2>/dev/null || echo first); echo "from-$v" > deps/marker; fi';
    const yaml = yamlWithSteps([step], '  cache: [deps]\n').replace(
      'build:\n',
      'build:\n  runs_on: [cached]\n',
    );
    const app = await createApp(server, yaml, { name: 'shop' });
    const log = async (id: string) => {
      const b = await finishedBuild(server, id, 120_000);
      expect(b.status, `${b.error}\n${agent!.output()}`).toBe('succeeded');
      return fetch(`${server.url}/api/builds/${id}/logs`, {
        headers: { authorization: `Bearer ${server.token}` },
      }).then((r) => r.text());
    };
    const sync = async () =>
      (await server.api<{ buildIds: string[] }>('POST', '/api/apps/shop/sync')).body.buildIds[0]!;
    // No lock file: no key, nothing kept.
    expect(await log(app.buildIds[0]!)).toContain('MISS');
    await app.pushFiles({ 'package-lock.json': '{"v":1}', VERSION: 'v1' });
    const first = await log(await sync());
    expect(first).toContain('MISS');
    expect(first).toMatch(/gantry: cache [0-9a-f]{12} on this agent: none yet/);
    // The same lock file: the folder the build before left, restored on this machine.
    await app.pushFiles({ 'src.txt': 'same lock file', VERSION: 'v2' });
    const second = await log(await sync());
    expect(second).toContain('HIT from-v1');
    expect(second).toMatch(/gantry: cache [0-9a-f]{12} on this agent: restored deps/);
    // A new lock file: a new key, a miss.
    await app.pushFiles({ 'package-lock.json': '{"v":2}', VERSION: 'v3' });
    expect(await log(await sync())).toContain('MISS');
  });
});
