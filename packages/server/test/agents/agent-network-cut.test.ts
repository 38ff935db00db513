import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Artifact, Build, GantryEvent } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildsOf, createApp, finishedBuild } from '../support/app-fixture.js';
import { cleanupAll, makeTempDir } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';
import { makeNet, type Net, netnsProblem } from './netns-fixture.js';

/**
 * A real `gantry agent` in a network namespace of its own, reaching the server over a veth pair, and
 * the link cut mid-build (issue #16). Needs root (`ip netns`); CI runs as root and sets
 * GANTRY_REQUIRE_NETNS=1, so there the suite fails rather than skips when namespaces do not work.
 */

const BIN = new URL('../../../cli/bin/gantry.js', import.meta.url).pathname;
/** Longer than the short cut lasts (restored once the server has missed 2 s of heartbeats), with room. */
const STALE_AFTER_MS = 8_000;

const problem = netnsProblem();
const required = process.env.GANTRY_REQUIRE_NETNS === '1';
if (problem && !required)
  process.stdout.write(`\n*** Network-cut agent suite: OFF — ${problem}. CI runs it as root.\n\n`);

interface Agent {
  child: ChildProcess;
  output(): string;
}

/** `gantry agent` (the CLI as a build machine runs it) inside the namespace, with its own dirs. */
async function spawnAgentIn(net: Net, url: string, token: string): Promise<Agent> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GANTRY_')) env[k] = v;
  env.XDG_CONFIG_HOME = await makeTempDir('gantry-agent-xdg-');
  const workDir = await makeTempDir('gantry-agent-work-');
  const args = ['agent', '--server', url, '--token', token, '--labels', 'netcut', '--work-dir', workDir];
  // `ip netns exec` execs the command: the child's pid is the agent's.
  const child = spawn('ip', ['netns', 'exec', net.ns, process.execPath, BIN, ...args, '--sandbox', 'off'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const take = (d: Buffer) => {
    out += d.toString();
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  return { child, output: () => out };
}

/**
 * A build whose one step tells the test it started, waits for the test's go (a file: the agent runs
 * with `--sandbox off` in the same file system), says it passed the gate, and leaves its build id
 * in the artifact.
 */
function gatedYaml(gates: string, app: string): string {
  const step = [
    `touch ${gates}/started-$GANTRY_BUILD_ID`,
    `i=0; until [ -f ${gates}/go-${app} ] || [ $i -ge 1800 ]; do sleep 0.1; i=$((i+1)); done`,
    `echo "$GANTRY_BUILD_ID" > built-by.txt`,
    `touch ${gates}/passed-$GANTRY_BUILD_ID`,
    'echo passed the gate',
  ].join('; ');
  return `build:\n  runs_on: [netcut]\n  steps:\n    - name: gated\n      run: ${JSON.stringify(step)}\n  artifact: { path: . }\n`;
}

async function events(server: TestServer, app: string, type: string): Promise<GantryEvent[]> {
  return (await server.api<GantryEvent[]>('GET', `/api/events?app=${app}&type=${type}`)).body;
}

async function startedBy(server: TestServer, app: string, buildId: string): Promise<string[]> {
  return (await events(server, app, 'build.started'))
    .filter((e) => e.subject === buildId)
    .map((e) => String((e.data as { runner?: string }).runner));
}

/** The build's row as the sweeper sees it: its lease and the age of its last heartbeat. */
async function leaseOf(server: TestServer, buildId: string) {
  const row = await server.gantry.database.db
    .selectFrom('builds')
    .select(['runner_id', 'heartbeat_at'])
    .where('id', '=', buildId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return row && { lease: row.runner_id, heartbeatAgeMs: Date.now() - Date.parse(row.heartbeat_at ?? '') };
}

/** The build's artifact, downloaded: its bytes hash to its digest, and it holds the build's own output. */
async function checkArtifact(server: TestServer, build: Build): Promise<Artifact> {
  expect(build.artifactId).toBeTruthy();
  const artifact = (await server.api<Artifact>('GET', `/api/artifacts/${build.artifactId}`)).body;
  const res = await fetch(`${server.url}/api/artifacts/${artifact.id}/download`, {
    headers: { authorization: `Bearer ${server.token}` },
  });
  expect(res.status).toBe(200);
  const bytes = Buffer.from(await res.arrayBuffer());
  expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(artifact.digest);
  const dir = await makeTempDir('gantry-cut-artifact-');
  await writeFile(join(dir, 'a.tar.gz'), bytes);
  expect(spawnSync('tar', ['-xzf', 'a.tar.gz'], { cwd: dir }).status).toBe(0);
  expect((await readFile(join(dir, 'built-by.txt'), 'utf8')).trim()).toBe(build.id);
  return artifact;
}

const waitForFile = (path: string, what: string) =>
  waitFor(async () => (existsSync(path) ? true : undefined), what, 90_000);

afterAll(cleanupAll);

if (problem && required) {
  describe('an agent in its own network namespace', () => {
    it('needs ip netns (GANTRY_REQUIRE_NETNS=1)', () => {
      throw new Error(`network namespaces are required for the tests but do not work here: ${problem}`);
    });
  });
}

describe.skipIf(problem !== null)('an agent in its own network namespace, its link cut mid-build', () => {
  let net: Net;
  let server: TestServer;
  let agent: Agent;
  let tokenId: string;
  let token: string;
  let gates: string;

  beforeAll(async () => {
    net = makeNet();
    gates = await makeTempDir('gantry-cut-gates-');
    // The server listens on the host's end of the veth only: the agent has no other way to it.
    server = await startTestServer(undefined, { host: net.hostAddr, staleAfterMs: STALE_AFTER_MS });
    const made = await server.api<{ id: string; token: string }>('POST', '/api/agents/tokens', {
      labels: ['netcut'],
    });
    expect(made.status).toBe(201);
    tokenId = made.body.id;
    token = made.body.token;
  });
  afterAll(async () => {
    for (const app of ['short', 'long']) await writeFile(join(gates, `go-${app}`), '').catch(() => undefined);
    agent?.child.kill('SIGKILL');
    net?.remove();
    await server?.close();
  });

  it('an agent started while its link is down retries with backoff and connects once the link is up', async () => {
    net.cut();
    agent = await spawnAgentIn(net, server.url, token);
    await waitFor(
      async () => (agent.output().includes('server unreachable') ? true : undefined),
      'the agent to find the server unreachable',
    ).catch((e: Error) => {
      throw new Error(`${e.message}; the agent said:\n${agent.output()}`);
    });
    expect(agent.output()).toMatch(/server unreachable \(.+\); retrying with backoff/);
    expect(agent.output()).not.toContain('gantry agent: connected');
    net.restore();
    await waitFor(
      async () => (agent.output().includes('gantry agent: connected') ? true : undefined),
      'the agent to connect once the link is up',
      90_000,
    );
    const listed = await server.api<{ id: string; lastSeenAt: string | null }[]>('GET', '/api/agents');
    expect(listed.body.find((a) => a.id === tokenId)?.lastSeenAt).toBeTruthy();
  });

  it('a cut shorter than the lease: the same agent finishes the same build and delivers its result once the link is back', async () => {
    const app = await createApp(server, gatedYaml(gates, 'short'), { name: 'short' });
    const id = app.buildIds[0]!;
    await waitForFile(join(gates, `started-${id}`), 'the step to start on the agent').catch((e: Error) => {
      throw new Error(`${e.message}; the agent said:\n${agent.output()}`);
    });
    const [lease] = await startedBy(server, 'short', id);
    expect(lease).toMatch(new RegExp(`^agent:${tokenId}:`));

    net.cut();
    // The step ends while the link is down: its report has to wait for the link.
    await writeFile(join(gates, 'go-short'), '');
    await waitForFile(join(gates, `passed-${id}`), 'the step to pass its gate');
    const quiet = await waitFor(async () => {
      const l = await leaseOf(server, id);
      return l && l.heartbeatAgeMs >= 2_000 ? l : undefined;
    }, 'the server to miss 2 s of heartbeats');
    // Still the agent's build, under the same lease: the sweeper waits GANTRY_STALE_AFTER_MS.
    expect(quiet.lease).toBe(lease);
    expect((await server.api<Build>('GET', `/api/builds/${id}`)).body.status).toBe('running');
    net.restore();

    const build = await finishedBuild(server, id, 90_000);
    expect(build.status, agent.output()).toBe('succeeded');
    expect(build.attempt).toBe(1);
    expect(await startedBy(server, 'short', id)).toEqual([lease]);
    expect(await events(server, 'short', 'build.interrupted')).toEqual([]);
    expect((await buildsOf(server, 'short')).map((b) => b.id)).toEqual([id]);
    expect(await events(server, 'short', 'build.succeeded')).toHaveLength(1);
    const artifact = await checkArtifact(server, build);
    expect(artifact.buildId).toBe(id);
    const logs = await fetch(`${server.url}/api/builds/${id}/logs`, {
      headers: { authorization: `Bearer ${server.token}` },
    }).then((r) => r.text());
    expect(logs).toContain('passed the gate');
    await waitFor(
      async () => (agent.output().includes(`${id} succeeded`) ? true : undefined),
      'the agent to hear that the build is recorded',
    );
  });

  it('a cut longer than the lease: the build is requeued, the agent drops the old job (409) once the link is back, and the retry succeeds on it exactly once', async () => {
    const app = await createApp(server, gatedYaml(gates, 'long'), { name: 'long' });
    const first = app.buildIds[0]!;
    await waitForFile(join(gates, `started-${first}`), 'the step to start on the agent').catch((e: Error) => {
      throw new Error(`${e.message}; the agent said:\n${agent.output()}`);
    });
    const [firstLease] = await startedBy(server, 'long', first);

    net.cut();
    expect((await leaseOf(server, first))?.lease).toBe(firstLease);
    // No heartbeat for GANTRY_STALE_AFTER_MS: the sweeper interrupts the build and queues it again,
    // where it waits, since its only agent cannot reach the server.
    const interrupted = await finishedBuild(server, first, 90_000);
    expect(interrupted.status).toBe('interrupted');
    const retry = await waitFor(
      async () => (await buildsOf(server, 'long')).find((b) => b.id !== first),
      'the retry to be queued',
    );
    expect(retry).toMatchObject({ status: 'queued', attempt: 2, reason: 'retry', runsOn: ['netcut'] });
    expect(existsSync(join(gates, `passed-${first}`))).toBe(false);
    net.restore();

    // The agent's next heartbeat of the old lease gets 409: it stops the step and drops the job …
    await waitFor(
      async () => (agent.output().includes(`${first} lease lost`) ? true : undefined),
      'the agent to drop the job whose lease ran out',
      90_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; the agent said:\n${agent.output()}`);
    });
    expect(agent.output()).toMatch(
      new RegExp(`${first} lease lost: the lease on build ${first} is lost \\(the build is interrupted\\)`),
    );
    expect(existsSync(join(gates, `passed-${first}`))).toBe(false);
    // … and takes the retry.
    await waitForFile(join(gates, `started-${retry.id}`), 'the retry to start on the agent');
    await writeFile(join(gates, 'go-long'), '');
    const done = await finishedBuild(server, retry.id, 90_000);
    expect(done.status, agent.output()).toBe('succeeded');
    const [retryLease] = await startedBy(server, 'long', retry.id);
    expect(retryLease).toMatch(new RegExp(`^agent:${tokenId}:`));
    expect(retryLease).not.toBe(firstLease);

    // Done exactly once: the first attempt stays interrupted, one success, one artifact, from the retry.
    const all = await buildsOf(server, 'long');
    expect(all.map((b) => [b.id, b.status]).sort()).toEqual(
      [
        [first, 'interrupted'],
        [retry.id, 'succeeded'],
      ].sort(),
    );
    expect(await startedBy(server, 'long', first)).toEqual([firstLease]);
    expect(await events(server, 'long', 'build.succeeded')).toHaveLength(1);
    const artifacts = (await server.api<Artifact[]>('GET', '/api/artifacts?app=long')).body;
    expect(artifacts).toHaveLength(1);
    const artifact = await checkArtifact(server, done);
    expect(artifacts[0]!.id).toBe(artifact.id);
    expect(agent.child.exitCode).toBeNull();
  });
});
