import type { Build } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, spawnAgent } from '../agents/agent-fixture.js';
import { createApp, finishedBuild, yamlWithSteps } from '../support/app-fixture.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { httpForwarder } from '../support/http-forwarder.js';
import type { TestServer } from '../support/test-server.js';
import { pgUrl, type ServerGroup, startServerGroup } from './cluster-fixture.js';

afterAll(cleanupAll);

const logs = (s: TestServer, id: string, follow = false) =>
  fetch(`${s.url}/api/builds/${id}/logs${follow ? '?follow=true' : ''}`, {
    headers: { authorization: `Bearer ${s.token}` },
  }).then((r) => r.text());

/** One address in front of several servers, each request to the next in turn (a round-robin balancer). */
function roundRobin(targets: string[]) {
  let next = 0;
  return httpForwarder(() => new URL(targets[next++ % targets.length]!).host);
}

/** A step that writes in several pieces a while apart, so its log is read while it grows. */
const SLOW_STEP = 'for i in 1 2 3 4 5 6; do echo "piece $i of the log"; sleep 0.4; done';
const WHOLE = Array.from({ length: 6 }, (_, i) => `piece ${i + 1} of the log`).join('\n');

describe.runIf(pgUrl)('build logs with two servers on one PostgreSQL', () => {
  let group: ServerGroup;
  beforeAll(async () => {
    group = await startServerGroup(pgUrl!, 2, {}, 1_000, true);
  });
  afterAll(async () => {
    await group?.close();
  });

  it("reads a build's log whole from either server, followed live too, whichever server ran it", async () => {
    const [a, b] = group.servers as [TestServer, TestServer];
    const app = await createApp(a, yamlWithSteps([SLOW_STEP, 'echo second step']), { name: 'logged' });
    const id = app.buildIds[0]!;
    // Both follow from the start, while one of them runs it.
    const following = [logs(a, id, true), logs(b, id, true)];
    const build = await finishedBuild(a, id);
    expect(build.status, build.error ?? '').toBe('succeeded');
    const expected = `==> s0\n${WHOLE}\n==> s1\nsecond step\n`;
    for (const text of await Promise.all(following))
      expect(text.replace(/^gantry: .*\n/m, '')).toBe(expected);
    const [fromA, fromB] = [await logs(a, id), await logs(b, id)];
    expect(fromA).toBe(fromB);
    expect(fromA.replace(/^gantry: .*\n/m, '')).toBe(expected);
    // One of the two had no file of it: the other's runner wrote it, and the database had its copy.
    const rows = await group.admin.query(
      'select count(*)::int as n from build_log_chunks where build_id = $1',
      [id],
    );
    expect(rows.rows[0].n).toBeGreaterThan(0);
  });

  it('keeps the log of an agent whose requests reach both servers in turn, in order, on both', async () => {
    const [a, b] = group.servers as [TestServer, TestServer];
    const balancer = await roundRobin([a.url, b.url]);
    let agent: AgentProcess | undefined;
    try {
      const made = await a.api<{ token: string }>('POST', '/api/agents/tokens', { labels: ['far'] });
      agent = await spawnAgent(balancer.url, made.body.token, ['--labels', 'far']);
      const yaml = yamlWithSteps([SLOW_STEP, 'echo second step']).replace(
        'build:\n',
        'build:\n  runs_on: [far]\n',
      );
      const app = await createApp(a, yaml, { name: 'remote-logged' });
      const build: Build = await finishedBuild(a, app.buildIds[0]!, 120_000);
      expect(build.status, `${build.error}\n${agent.output()}`).toBe('succeeded');
      const [fromA, fromB] = [await logs(a, build.id), await logs(b, build.id)];
      expect(fromA).toBe(fromB);
      const body = fromA
        .split('\n')
        .filter((l) => !l.startsWith('gantry: '))
        .join('\n');
      expect(body).toBe(`==> s0\n${WHOLE}\n==> s1\nsecond step\n`);
    } finally {
      agent?.child.kill('SIGKILL');
      await agent?.exited;
      await balancer.close();
    }
  });
});
