import type { GantryEvent } from '@gantry/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, finishedBuild, yamlWithSteps } from '../support/app-fixture.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { type AgentProcess, spawnAgent } from './agent-fixture.js';

afterAll(cleanupAll);

describe("a build's SLO on an agent (SQLite)", () => {
  let server: TestServer;
  let agent: AgentProcess | undefined;
  afterAll(async () => {
    agent?.child.kill('SIGKILL');
    await agent?.exited;
    await server?.close();
  });

  it('is flagged once when the build passes it, as on the servers, and the build stopped at twice it', async () => {
    server = await startTestServer();
    const made = await server.api<{ token: string }>('POST', '/api/agents/tokens', { labels: ['slow'] });
    agent = await spawnAgent(server.url, made.body.token, ['--labels', 'slow']);
    const yaml = yamlWithSteps(['sleep 30'], '  timeout: 1s\n').replace(
      'build:\n',
      'build:\n  runs_on: [slow]\n',
    );
    const app = await createApp(server, yaml, { name: 'slow' });
    const b = await finishedBuild(server, app.buildIds[0]!, 60_000);
    expect(b.status, agent.output()).toBe('failed');
    expect(b.sloBreached).toBe(true);
    expect(b.error).toContain('exceeded twice its SLO');
    const { body: events } = await server.api<GantryEvent[]>('GET', `/api/events?subject=${b.id}`);
    const breached = events.filter((e) => e.type === 'build.slo_breached');
    expect(breached).toHaveLength(1);
    expect(breached[0]!.data).toMatchObject({ sloMs: 1000 });
    // Flagged while it ran, before it was stopped.
    const failed = events.find((e) => e.type === 'build.failed');
    expect(breached[0]!.id).toBeLessThan(failed!.id);
  });
});
