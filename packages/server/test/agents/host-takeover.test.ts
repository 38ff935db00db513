import type { Deployment, GantryEvent } from '@gantry/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../support/app-fixture.js';
import { deployedTo, SERVER_JS } from '../support/deploy-fixture.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { freePort } from '../support/server-process.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';
import { type AgentProcess, hostHeld, hostsYaml, spawnAgent } from './agent-fixture.js';

// A host's machine is replaced: the new machine's agent takes the host label over once the old
// one's lease has run out, and the server restores there what lived on the host, its last healthy
// release, without a deployment. 127.0.0.2 and 127.0.0.4 stand for the old and the new machine.

afterAll(cleanupAll);

const OLD = '127.0.0.2';
const NEW = '127.0.0.4';

const get = (host: string, port: number) =>
  fetch(`http://${host}:${port}/`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text());

describe('a host taken over by a new machine', () => {
  let server: TestServer;
  const agents: AgentProcess[] = [];
  afterAll(async () => {
    await server?.close();
    for (const a of agents) a.child.kill('SIGKILL');
    await Promise.all(agents.map((a) => a.exited));
  });

  it("serves the environment's last healthy release there at once, with no deployment, and takes the next one", async () => {
    server = await startTestServer(undefined, { staleAfterMs: 3_000, hostClaimTimeoutMs: 10_000 });
    const made = await server.api<{ token: string }>('POST', '/api/agents/tokens', { labels: ['web-9'] });
    const token = made.body.token;
    const old = await spawnAgent(server.url, token, ['--listen', OLD]);
    agents.push(old);
    await hostHeld(server, 'web-9');

    const port = await freePort();
    const yaml = hostsYaml(`qa: { auto_deploy: true, port: ${port}, host: web-9 }`);
    const app = await createApp(server, yaml, { register: false });
    await app.pushFiles({ 'server.js': SERVER_JS, VERSION: 'v1' }, 'v1');
    const added = await server.api<{ headSha: string }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
    });
    const v1 = added.body.headSha;
    expect((await deployedTo(server, 'qa', v1)).status).toBe('succeeded');
    expect(await get(OLD, port)).toBe('v1 ');
    // The status gives the host's address as its agent is reached, not the server's.
    const urlOf = async () =>
      (
        await server.api<{ env: string; url: string; urls?: string[] }[]>(
          'GET',
          '/api/apps/shop/environments',
        )
      ).body.find((e) => e.env === 'qa');
    expect(await urlOf()).toMatchObject({ url: `http://${OLD}:${port}`, urls: [`http://${OLD}:${port}`] });

    // The old machine goes: its agent and its app.
    old.child.kill('SIGKILL');
    await old.exited;
    await fetch(`http://${OLD}:${port}/crash`).catch(() => undefined);
    const { body: before } = await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa');

    // A new machine, empty work dir, the same label: it holds the host once the old lease is over.
    const fresh = await spawnAgent(server.url, token, ['--listen', NEW]);
    agents.push(fresh);
    const restored = await waitFor(
      async () =>
        (await server.api<GantryEvent[]>('GET', '/api/events?type=environment.host_restored')).body.find(
          (e) => e.data.host === 'web-9',
        ),
      'the host restored on the new machine',
      30_000,
    );
    expect(restored).toMatchObject({ subject: 'qa', data: { host: 'web-9', sha: v1, kind: 'start' } });
    expect(await get(NEW, port)).toBe('v1 ');
    // No deployment did it: nothing new was released.
    const { body: after } = await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa');
    expect(after.map((d) => d.id)).toEqual(before.map((d) => d.id));
    expect(fresh.output()).toMatch(/restore shop\/qa on web-9: done/);
    expect(await urlOf()).toMatchObject({ url: `http://${NEW}:${port}` });

    // The next deployment reaches the new machine, as a switch from what the restore started.
    const v2 = await app.pushFiles({ VERSION: 'v2' }, 'v2');
    await server.api('POST', '/api/apps/shop/sync');
    expect(await deployedTo(server, 'qa', v2)).toMatchObject({ status: 'succeeded', previousSha: v1 });
    expect(await get(NEW, port)).toBe('v2 ');
  });
});
