import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { Build, GantryEvent } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createApp, finishedBuild, yamlWithSteps } from '../support/app-fixture.js';
import { deployedTo, deployYaml, envPorts, SERVER_JS, serving } from '../support/deploy-fixture.js';
import { engines, freshSchemaName } from '../support/engines.js';
import { cleanupAll, makeTempDir } from '../support/git-fixtures.js';
import { HAS_BWRAP, hostProcesses, uniqueSleep } from '../support/sandbox-fixtures.js';
import { freePort } from '../support/server-process.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

const BIN = new URL('../../../cli/bin/gantry.js', import.meta.url).pathname;
const SANDBOX = HAS_BWRAP ? 'bwrap' : 'off';

afterAll(cleanupAll);

interface AgentProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** The CLI's environment without the test's GANTRY_* settings; its own config and work dirs. */
async function cliEnv(extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GANTRY_')) env[k] = v;
  return { ...env, XDG_CONFIG_HOME: await makeTempDir('gantry-agent-xdg-'), ...extra };
}

/** `gantry agent` as a real process with its own work dir, as it runs on a build machine. */
async function spawnAgent(url: string, token: string, labels: string, keep = false): Promise<AgentProcess> {
  const workDir = await makeTempDir('gantry-agent-work-');
  const args = ['agent', '--server', url, '--token', token, '--labels', labels, '--work-dir', workDir];
  const child = spawn(process.execPath, [BIN, ...args, '--sandbox', SANDBOX], {
    env: await cliEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // The first test's agent serves the next tests too; the describe's afterAll stops it.
  if (!keep) onTestFinished(() => void child.kill('SIGKILL'));
  return { child, output: () => out, exited };
}

/** The CLI as an admin runs it, against `server`. */
async function cli(server: TestServer, args: string[]): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: await cliEnv({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  return { code, stdout };
}

async function agentToken(server: TestServer, labels: string[]): Promise<{ id: string; token: string }> {
  const res = await server.api<{ id: string; token: string }>('POST', '/api/agents/tokens', { labels });
  expect(res.status).toBe(201);
  return res.body;
}

const withRunsOn = (yaml: string, labels: string) =>
  yaml.replace('build:\n', `build:\n  runs_on: [${labels}]\n`);

async function startedBy(server: TestServer, buildId: string): Promise<string> {
  const { body } = await server.api<GantryEvent[]>(
    'GET',
    `/api/events?type=build.started&subject=${buildId}`,
  );
  const started = body.at(-1);
  return String((started?.data as { runner?: string } | undefined)?.runner);
}

describe.each(engines)('remote build agents on $name', (engine) => {
  let server: TestServer;
  let agent: AgentProcess;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer(engine, { staleAfterMs: 2_000, buildsSandbox: SANDBOX });
  });
  afterAll(async () => {
    agent?.child.kill('SIGKILL');
    await server?.close();
  });

  it('builds a runs_on build on an agent (log live through the API, artifact deployed by the server); a build whose labels no agent has waits, saying why', async () => {
    const created = await cli(server, ['agents', 'token', 'create', '--labels', 'linux,big', '--json']);
    expect(created.code).toBe(0);
    const made = JSON.parse(created.stdout) as { id: string; token: string; labels: string[] };
    expect(made.labels).toEqual(['linux', 'big']);
    token = made.token;

    // Queued first, so the agent's claims pass over it.
    const gpu = await createApp(server, withRunsOn(yamlWithSteps(['echo gpu']), 'gpu'), { name: 'gpu' });
    const gpuBuild = gpu.buildIds[0]!;

    const ports = await envPorts();
    const yaml = withRunsOn(deployYaml(ports), 'linux, big').replace(
      'run: "mkdir',
      'run: "echo built-on-agent $GANTRY_BUILD_ID && mkdir',
    );
    const app = await createApp(server, yaml, { register: false });
    await app.pushFiles({ 'server.js': SERVER_JS, VERSION: 'v1' }, 'v1');
    const added = await server.api<{ buildIds: string[]; headSha: string }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
    });
    expect(added.status).toBe(201);
    const buildId = added.body.buildIds[0]!;
    const queued = await server.api<Build>('GET', `/api/builds/${buildId}`);
    expect(queued.body).toMatchObject({ status: 'queued', runsOn: ['linux', 'big'] });
    expect(queued.body.waiting).toMatch(/no such agent has asked for work lately/);

    agent = await spawnAgent(server.url, token, 'linux,big', true);
    const build = await finishedBuild(server, buildId, 90_000);
    expect(build.status, agent.output()).toBe('succeeded');
    expect(await startedBy(server, buildId)).toMatch(new RegExp(`^agent:${made.id}:`));
    const logs = await fetch(`${server.url}/api/builds/${buildId}/logs`, {
      headers: { authorization: `Bearer ${server.token}` },
    }).then((r) => r.text());
    expect(logs).toContain(`built-on-agent ${buildId}`);
    expect(logs).toContain(SANDBOX === 'bwrap' ? 'gantry: sandbox bwrap' : 'gantry: WARNING no sandbox');

    const deployed = await deployedTo(server, 'qa', added.body.headSha, 90_000);
    expect(deployed.status).toBe('succeeded');
    expect(await serving(ports.qa)).toBe('v1 hello-qa');

    const waiting = await server.api<Build>('GET', `/api/builds/${gpuBuild}`);
    expect(waiting.body.status).toBe('queued');
    expect(waiting.body.waiting).toMatch(/waiting for an agent with labels gpu: no agent token has them/);
    const listed = await server.api<{ id: string; lastSeenAt: string | null }[]>('GET', '/api/agents');
    expect(listed.body.find((a) => a.id === made.id)?.lastSeenAt).toBeTruthy();
  });

  it('requeues the build of an agent killed with SIGKILL once its lease is stale, and a second agent finishes it', async () => {
    // The step cannot see the test's files in a sandbox: it finds out it is the second attempt
    // because a port the test opens after the kill answers.
    const gatePort = await freePort();
    const sleep = uniqueSleep(120);
    onTestFinished(() => {
      for (const pid of hostProcesses(sleep)) process.kill(pid, 'SIGKILL');
    });
    const step = `if curl -fs http://127.0.0.1:${gatePort}/ >/dev/null; then echo second attempt; else sleep ${sleep}; fi`;
    const app = await createApp(server, withRunsOn(yamlWithSteps([step]), 'linux'), { name: 'slow' });
    const first = app.buildIds[0]!;
    await waitFor(
      async () => (hostProcesses(sleep).length ? true : undefined),
      'the step to start on the agent',
    ).catch((e: Error) => {
      throw new Error(`${e.message}; the agent said:\n${agent.output()}`);
    });
    const firstLease = await startedBy(server, first);
    agent.child.kill('SIGKILL');
    await agent.exited;
    const gate = createServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
    await new Promise<void>((resolve) => gate.listen(gatePort, '127.0.0.1', resolve));
    onTestFinished(() => void gate.close());

    const interrupted = await finishedBuild(server, first, 60_000);
    expect(interrupted.status).toBe('interrupted');
    const second = await spawnAgent(server.url, token, 'linux');
    const retry = await waitFor(async () => {
      const { body } = await server.api<Build[]>('GET', '/api/builds?app=slow');
      return body.find((b) => b.id !== first && b.status === 'succeeded');
    }, 'the requeued build to succeed on the second agent');
    expect(retry).toMatchObject({ attempt: 2, reason: 'retry', runsOn: ['linux'] });
    const lease = await startedBy(server, retry.id);
    expect(lease).toMatch(/^agent:/);
    expect(lease).not.toBe(firstLease);

    // The first agent's lease is gone: a late write of it is refused.
    const late = await fetch(`${server.url}/api/agent/jobs/${first}/heartbeat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ lease: firstLease }),
    });
    expect(late.status).toBe(409);
    expect(((await late.json()) as { message: string }).message).toMatch(/lease on build .* is lost/);
    second.child.kill('SIGTERM');
    await second.exited;
  });

  it('refuses a revoked agent token (401), agent tokens outside the agent API and other tokens on it', async () => {
    const revoked = await agentToken(server, ['linux']);
    const claim = (t: string) =>
      fetch(`${server.url}/api/agent/claim`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
        body: '{}',
      });
    expect((await claim(revoked.token)).status).toBe(204);
    expect((await server.api('DELETE', `/api/agents/tokens/${revoked.id}`)).status).toBe(204);
    expect((await claim(revoked.token)).status).toBe(401);
    const stopped = await spawnAgent(server.url, revoked.token, 'linux');
    expect(await stopped.exited).toBe(1);
    expect(stopped.output()).toMatch(/refused the agent token/);

    const live = await agentToken(server, ['linux']);
    const apps = await fetch(`${server.url}/api/apps`, {
      headers: { authorization: `Bearer ${live.token}` },
    });
    expect(apps.status).toBe(403);
    expect((await claim(server.token)).status).toBe(403);
    const wider = await fetch(`${server.url}/api/agent/claim`, {
      method: 'POST',
      headers: { authorization: `Bearer ${live.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ labels: ['linux', 'gpu'] }),
    });
    expect(wider.status).toBe(403);
  });
});

describe.each(engines)('an agent started while its server is down, on $name', (engine) => {
  it('retries with backoff and takes the build once the server is up', async () => {
    const port = await freePort();
    const dataDir = await makeTempDir('gantry-agent-server-');
    // The restarted server opens the same database: the same file, or the same PostgreSQL schema.
    const databaseSchema = engine.name === 'postgres' ? freshSchemaName() : undefined;
    const config = { port, dataDir, databaseSchema, buildsSandbox: SANDBOX } as const;
    const first = await startTestServer(engine, config);
    const { token } = await agentToken(first, ['linux']);
    const adminToken = first.token;
    const app = await createApp(first, withRunsOn(yamlWithSteps(['echo from-the-agent']), 'linux'));
    const buildId = app.buildIds[0]!;
    await first.close();

    const agent = await spawnAgent(`http://127.0.0.1:${port}`, token, 'linux');
    await waitFor(
      async () => (agent.output().includes('server unreachable') ? true : undefined),
      'the agent to retry',
    );
    const second = await startTestServer(engine, config);
    try {
      const build = await waitFor(async () => {
        const res = await fetch(`${second.url}/api/builds/${buildId}`, {
          headers: { authorization: `Bearer ${adminToken}` },
        });
        const b = (await res.json()) as Build;
        return b.status === 'queued' || b.status === 'running' ? undefined : b;
      }, 'the build to finish');
      expect(build.status, agent.output()).toBe('succeeded');
      expect(agent.output()).toContain('connected');
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exited;
      await second.close();
    }
  });
});
