import type { GantryEvent } from '@gantry/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { pgUrl, type ServerGroup, startServerGroup } from '../cluster/cluster-fixture.js';
import { createApp } from '../support/app-fixture.js';
import { deployedTo, SERVER_JS } from '../support/deploy-fixture.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { freePort } from '../support/server-process.js';
import { type AgentProcess, hostHeld, hostsYaml, spawnAgent } from './agent-fixture.js';

// Agents may reach any server behind one address; the deployment runs on one of them. A deploy
// agent here talks only to server B, while only server A runs deployments: the phases the agent
// reports to B must reach A, which records them on the deployment.

let group: ServerGroup | undefined;
let agent: AgentProcess | undefined;
afterAll(async () => {
  await group?.close();
  agent?.child.kill('SIGTERM');
  await agent?.exited;
  await cleanupAll();
});

describe.runIf(pgUrl)('deploy agents with several servers (PostgreSQL)', () => {
  it('records the phases a host reports to another server on the deployment of the server that runs it', async () => {
    group = await startServerGroup(
      pgUrl!,
      2,
      { staleAfterMs: 3_000, hostClaimTimeoutMs: 10_000 },
      1_000,
      true,
    );
    const [a, b] = group.servers as [(typeof group.servers)[0], (typeof group.servers)[0]];
    // B runs no deployment: it only answers the agent.
    await b.gantry.deployer.stop();
    const made = await a.api<{ token: string }>('POST', '/api/agents/tokens', { labels: ['web-1'] });
    expect(made.status).toBe(201);
    agent = await spawnAgent(b.url, made.body.token, ['--listen', '127.0.0.2']);
    await hostHeld(a, 'web-1');

    const port = await freePort();
    const yaml = hostsYaml(`qa: { auto_deploy: true, port: ${port}, host: web-1 }`);
    const app = await createApp(a, yaml, { register: false });
    await app.pushFiles({ 'server.js': SERVER_JS, VERSION: 'v1' }, 'v1');
    const added = await a.api<{ headSha: string }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
    });
    expect(added.status).toBe(201);

    const dep = await deployedTo(a, 'qa', added.body.headSha, 120_000);
    expect(dep.status, dep.error ?? '').toBe('succeeded');
    expect(await (await fetch(`http://127.0.0.2:${port}/`)).text()).toBe('v1 ');
    const started = (await a.api<GantryEvent[]>('GET', '/api/events?type=deployment.started')).body.find(
      (e) => e.subject === dep.id,
    );
    expect(started?.data.server).toBe(a.gantry.deployer.id);
    // The host's phases, reported to B, are on A's deployment, in the order the agent ran them.
    expect(dep.phases.map((p) => p.name)).toEqual(
      expect.arrayContaining(['unpack', 'start', 'health', 'switch']),
    );
    const names = dep.phases.map((p) => p.name);
    expect(names.indexOf('unpack')).toBeLessThan(names.indexOf('switch'));
  });
});
