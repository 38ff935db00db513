import type { Build, Deployment, EnvironmentState, GantryEvent } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, finishedBuild } from '../support/app-fixture.js';
import { deployedTo, deploymentDone, SERVER_JS } from '../support/deploy-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { freePort } from '../support/server-process.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';
import { type AgentProcess, hostHeld, hostsYaml, spawnAgent } from './agent-fixture.js';

// Deploy agents: an environment whose gantry.yaml names `hosts` lives on the machines of the agents
// holding those labels, not on Gantry's. Each agent here is its own process with its own work dir,
// and its environments' proxies listen on an address of its own (127.0.0.2, 127.0.0.3), as two
// machines would; nothing of the environment runs on 127.0.0.1.

afterAll(cleanupAll);

const WEB1 = '127.0.0.2';
const WEB2 = '127.0.0.3';

async function get(host: string, port: number): Promise<string> {
  const res = await fetch(`http://${host}:${port}/`, { signal: AbortSignal.timeout(5_000) });
  return (await res.text()).trim();
}

async function refused(host: string, port: number): Promise<boolean> {
  return fetch(`http://${host}:${port}/`, { signal: AbortSignal.timeout(5_000) }).then(
    () => false,
    () => true,
  );
}

describe('deploy agents (gantry.yaml hosts)', () => {
  let server: TestServer;
  const agents: AgentProcess[] = [];
  let port: number;
  let tokens: Record<string, string>;
  let app: Awaited<ReturnType<typeof createApp>>;
  let v1: string;
  let v2: string;

  beforeAll(async () => {
    server = await startTestServer(undefined, { staleAfterMs: 3_000, hostClaimTimeoutMs: 4_000 });
    tokens = {};
    for (const host of ['web-1', 'web-2']) {
      const res = await server.api<{ token: string }>('POST', '/api/agents/tokens', { labels: [host] });
      expect(res.status).toBe(201);
      tokens[host] = res.body.token;
    }
  });
  afterAll(async () => {
    // Closing a test server stops its environments: here through the agents, which then stop.
    await server?.close();
    for (const a of agents) a.child.kill('SIGTERM');
    await Promise.all(agents.map((a) => a.exited));
  });

  it('rolls a release across both hosts one at a time, each with its own warm standby; a rollback switches both back', async () => {
    agents.push(await spawnAgent(server.url, tokens['web-1']!, ['--listen', WEB1]));
    agents.push(await spawnAgent(server.url, tokens['web-2']!, ['--listen', WEB2]));
    await Promise.all([hostHeld(server, 'web-1'), hostHeld(server, 'web-2')]);
    port = await freePort();
    const yaml = hostsYaml(
      `qa: { auto_deploy: true, port: ${port}, hosts: [web-1, web-2], config: { GREETING: on-agents } }`,
    );
    app = await createApp(server, yaml, { register: false });
    await app.pushFiles({ 'server.js': SERVER_JS, VERSION: 'v1' }, 'v1');
    const added = await server.api<{ headSha: string }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
    });
    expect(added.status).toBe(201);
    v1 = added.body.headSha;

    const first = await deployedTo(server, 'qa', v1);
    expect(first).toMatchObject({ status: 'succeeded', kind: 'start' });
    expect(await get(WEB1, port)).toBe('v1 on-agents');
    expect(await get(WEB2, port)).toBe('v1 on-agents');
    expect(await refused('127.0.0.1', port)).toBe(true); // not on Gantry's machine
    // The deployment's phases came from the hosts, in order, once per host.
    expect(first.phases.map((p) => p.name).filter((n) => n === 'switch')).toHaveLength(2);

    v2 = await app.pushFiles({ VERSION: 'v2' }, 'v2');
    await server.api('POST', '/api/apps/shop/sync');
    expect(await deployedTo(server, 'qa', v2)).toMatchObject({ status: 'succeeded', previousSha: v1 });
    expect(await get(WEB1, port)).toBe('v2 on-agents');
    expect(await get(WEB2, port)).toBe('v2 on-agents');

    const { body: envs } = await server.api<EnvironmentState[]>('GET', '/api/apps/shop/environments');
    expect(envs.find((e) => e.env === 'qa')).toMatchObject({
      hosts: ['web-1', 'web-2'],
      health: { healthy: true, sha: v2 },
    });
    // Each driver call's row goes once its answer is read: health reads leave nothing behind.
    expect(await server.gantry.database.db.selectFrom('host_jobs').selectAll().execute()).toEqual([]);

    const rb = await server.api<Deployment>('POST', '/api/apps/shop/environments/qa/rollback', {});
    expect(rb.status).toBe(201);
    const back = await deploymentDone(server, rb.body.id);
    // Both hosts kept v1 warm: the rollback is a switch on each.
    expect(back).toMatchObject({ status: 'succeeded', sha: v1, kind: 'switch', trigger: 'rollback' });
    expect(await get(WEB1, port)).toBe('v1 on-agents');
    expect(await get(WEB2, port)).toBe('v1 on-agents');
  });

  it('a host whose agent is gone fails the deployment, saying so, and the hosts before it switch back', async () => {
    const web2 = agents[1]!;
    web2.child.kill('SIGKILL');
    await web2.exited;
    const v3 = await app.pushFiles({ VERSION: 'v3' }, 'v3');
    await server.api('POST', '/api/apps/shop/sync');
    const { body: builds } = await server.api<Build[]>('GET', '/api/builds?app=shop');
    await finishedBuild(server, builds.find((b) => b.sha === v3)!.id);
    // The hold from the rollback keeps v3 from auto-deploying; deploy it by hand.
    const req = await server.api<Deployment>('POST', '/api/apps/shop/deployments', { env: 'qa', ref: v3 });
    expect(req.status, JSON.stringify(req.body)).toBe(201);
    const failed = await deploymentDone(server, req.body.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/host web-2: the agent of host web-2 did not take the job/);
    expect(failed.error).toMatch(/web-1 switched back to/);
    // web-1 had v3 for a moment and serves v1 again; web-2's machine still serves what it had.
    expect(await get(WEB1, port)).toBe('v1 on-agents');
    expect(await get(WEB2, port)).toBe('v1 on-agents');

    const { body: envs } = await server.api<EnvironmentState[]>('GET', '/api/apps/shop/environments');
    const health = envs.find((e) => e.env === 'qa')?.health;
    expect(health?.healthy).toBe(false);
    expect(health?.detail).toMatch(/web-2: .*agent of host web-2/);

    // The agent comes back on its machine (same work dir): it takes its host again and the next
    // deployment reaches both, v3 starting on web-2 beside the v1 that kept serving there.
    const restarted = Date.now();
    const again = await spawnAgent(server.url, tokens['web-2']!, ['--listen', WEB2], web2.workDir);
    agents[1] = again;
    await hostHeld(server, 'web-2', restarted);
    const retry = await server.api<Deployment>('POST', '/api/apps/shop/deployments', { env: 'qa', ref: v3 });
    expect(retry.status).toBe(201);
    expect(await deploymentDone(server, retry.body.id)).toMatchObject({ status: 'succeeded', sha: v3 });
    expect(await get(WEB1, port)).toBe('v3 on-agents');
    expect(await get(WEB2, port)).toBe('v3 on-agents');
  });

  it('records the crash of an app on a host, restarted by the agent there', async () => {
    await fetch(`http://${WEB1}:${port}/crash`).catch(() => undefined);
    const crashed = await waitFor(
      async () => {
        const { body } = await server.api<GantryEvent[]>('GET', '/api/events?type=environment.app_crashed');
        return body.find((e) => (e.data as { host?: string }).host === 'web-1');
      },
      'a crash event from web-1',
      30_000,
    );
    expect(crashed.subject).toBe('qa');
    await waitFor(
      async () => ((await get(WEB1, port).catch(() => '')) === 'v3 on-agents' ? true : undefined),
      'web-1 serving again',
    );
  });

  it('an agent restarted on its machine starts a release that died while it was down, before any call', async () => {
    const web1 = agents[0]!;
    web1.child.kill('SIGKILL');
    await web1.exited;
    // With no agent there, nothing restarts the app when it dies; its proxy stays and cannot reach it.
    await fetch(`http://${WEB1}:${port}/crash`).catch(() => undefined);
    await waitFor(
      async () => ((await get(WEB1, port).catch(() => '')) !== 'v3 on-agents' ? true : undefined),
      'the app on web-1 gone',
    );
    const { body: before } = await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa');

    const restarted = Date.now();
    const again = await spawnAgent(server.url, tokens['web-1']!, ['--listen', WEB1], web1.workDir);
    agents[0] = again;
    await again.waitForOutput(/shop\/qa on web-1: started again [0-9a-f]{12}/);
    expect(await get(WEB1, port)).toBe('v3 on-agents');
    // No deployment did it, and the restored release is supervised again: its next crash is restarted.
    const { body: after } = await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa');
    expect(after.map((d) => d.id)).toEqual(before.map((d) => d.id));
    await hostHeld(server, 'web-1', restarted);
    const crashes = async () =>
      (await server.api<GantryEvent[]>('GET', '/api/events?type=environment.app_crashed')).body.filter(
        (e) => (e.data as { host?: string }).host === 'web-1',
      ).length;
    const seen = await crashes();
    await fetch(`http://${WEB1}:${port}/crash`).catch(() => undefined);
    await waitFor(async () => ((await crashes()) > seen ? true : undefined), 'the crash reported');
    await waitFor(
      async () => ((await get(WEB1, port).catch(() => '')) === 'v3 on-agents' ? true : undefined),
      'web-1 serving again after a crash under the restarted agent',
    );
  });

  it('takes agent calls from agent tokens only', async () => {
    const admin = await server.api<{ message: string }>('POST', '/api/agent/hosts/claim', {
      instance: 'abcdefgh12',
    });
    expect(admin.status).toBe(403);
    expect(admin.body.message).toMatch(/needs an agent token/);
  });
});

// The host queue's claims, leases and results on PostgreSQL (ON CONFLICT … WHERE, the waiter's polling).
describe.each(engines.filter((e) => e.name === 'postgres'))('deploy agents on $name', (engine) => {
  let server: TestServer;
  let agent: AgentProcess;

  beforeAll(async () => {
    server = await startTestServer(engine, { staleAfterMs: 3_000, hostClaimTimeoutMs: 4_000 });
  });
  afterAll(async () => {
    await server?.close();
    agent?.child.kill('SIGTERM');
    await agent?.exited;
  });

  it('deploys to a host and rolls back as a switch there', async () => {
    const made = await server.api<{ token: string }>('POST', '/api/agents/tokens', { labels: ['pg-host'] });
    agent = await spawnAgent(server.url, made.body.token, ['--listen', WEB1]);
    await hostHeld(server, 'pg-host');
    const port = await freePort();
    const app = await createApp(
      server,
      hostsYaml(`qa: { auto_deploy: true, port: ${port}, host: pg-host }`),
      { register: false },
    );
    await app.pushFiles({ 'server.js': SERVER_JS, VERSION: 'v1' }, 'v1');
    const added = await server.api<{ headSha: string }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
    });
    expect(added.status).toBe(201);
    expect(await deployedTo(server, 'qa', added.body.headSha)).toMatchObject({ status: 'succeeded' });
    expect(await get(WEB1, port)).toBe('v1');
    const v2 = await app.pushFiles({ VERSION: 'v2' }, 'v2');
    await server.api('POST', '/api/apps/shop/sync');
    expect(await deployedTo(server, 'qa', v2)).toMatchObject({ status: 'succeeded' });
    expect(await get(WEB1, port)).toBe('v2');
    const rb = await server.api<Deployment>('POST', '/api/apps/shop/environments/qa/rollback', {});
    expect(await deploymentDone(server, rb.body.id)).toMatchObject({ status: 'succeeded', kind: 'switch' });
    expect(await get(WEB1, port)).toBe('v1');
  });
});
