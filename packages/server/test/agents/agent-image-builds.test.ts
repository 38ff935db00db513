import { createHash, randomBytes } from 'node:crypto';
import type { Artifact, Build, GantryEvent } from '@gantry/contracts';
import Docker from 'dockerode';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../src/config/server-config.js';
import { engineOptions } from '../../src/containers/engine.js';
import { RegistryClient } from '../../src/containers/registry.js';
import type { AgentJob } from '../../src/features/agents/agent-service.js';
import { createApp, finishedBuild, yamlWithSteps } from '../support/app-fixture.js';
import {
  baseImages,
  describeContainers,
  dockerHost,
  dockerSocket,
  registry,
} from '../support/container-fixtures.js';
import { deployedTo, serving } from '../support/deploy-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { HAS_BWRAP } from '../support/sandbox-fixtures.js';
import { freePort } from '../support/server-process.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';
import { type AgentProcess, spawnAgent } from './agent-fixture.js';

afterAll(cleanupAll);

/** Each run pushes under a prefix of its own in the shared registry. */
const prefix = `gantry-agent-test-${process.pid}-${Date.now().toString(36)}`;
/** The server's registry password: it must never reach an agent. */
const PASSWORD = `never-sent-${randomBytes(6).toString('hex')}`;
const serverRegistry = (host = registry): ServerConfig['registry'] => ({
  url: `${host}/${prefix}`,
  host,
  prefix,
  insecure: true,
  username: 'gantry-ci',
  password: PASSWORD,
});

const logsOf = (server: TestServer, id: string) =>
  fetch(`${server.url}/api/builds/${id}/logs`, { headers: { authorization: `Bearer ${server.token}` } }).then(
    (r) => r.text(),
  );

const eventsOf = async (server: TestServer, type: string) =>
  (await server.api<GantryEvent[]>('GET', `/api/events?type=${type}&limit=1000`)).body;

async function agentToken(server: TestServer, labels: string[]) {
  const res = await server.api<{ id: string; name: string; token: string }>('POST', '/api/agents/tokens', {
    labels,
  });
  expect(res.status).toBe(201);
  return res.body;
}

/** The agent API as an agent calls it, with its token. */
function agentCall(server: TestServer, token: string, method: string, path: string, body?: unknown) {
  return fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

/** Claims a build by hand, as an agent would (no agent process: the test plays it). */
async function claimByHand(server: TestServer, token: string): Promise<AgentJob> {
  return waitFor(async () => {
    const res = await agentCall(server, token, 'POST', '/api/agent/claim', {});
    return res.status === 200 ? ((await res.json()) as AgentJob) : undefined;
  }, 'a build to claim');
}

/** A step that fails unless the engine is out of its reach: no DOCKER_HOST, and (sandboxed) no socket. */
const noEngineCheck = [
  'test -z "$DOCKER_HOST$GANTRY_REGISTRY_PASSWORD"',
  ...(HAS_BWRAP && dockerSocket ? [`test ! -e ${dockerSocket}`] : []),
].join(' && ');
const SANDBOX = HAS_BWRAP ? ['--sandbox', 'bwrap'] : [];

/** busybox's httpd serving the artifact folder: / answers VERSION's text, /healthz answers ok. */
const imageApp = (labels: string, port: number) => `build:
  runs_on: [${labels}]
  steps:
    - { name: package, run: "mkdir -p dist && cp VERSION dist/index.html && echo ok > dist/healthz" }
    - { name: no-engine, run: ${JSON.stringify(noEngineCheck)} }
  artifact: { path: dist }
  image: { base: "${baseImages.busybox}", repository: agent-shop }
run:
  command: exec httpd -f -p $PORT -h /app
  port_env: PORT
  health: { path: /healthz, timeout: 60s }
environments:
  qa: { auto_deploy: true, driver: container, port: ${port} }
`;

describeContainers.each(engines)('image builds on agents on $name', (engine) => {
  let server: TestServer;
  let agent: AgentProcess | undefined;
  afterEach(async () => {
    agent?.child.kill('SIGKILL');
    await agent?.exited;
    agent = undefined;
    await server?.close();
  });

  it("builds build.image on the agent's engine, pushes it with the engine's own login, and the server records the registry's digest and deploys it", async () => {
    server = await startTestServer(engine, { registry: serverRegistry() });
    const made = await agentToken(server, ['oci']);
    const port = await freePort();
    const app = await createApp(server, imageApp('oci', port), { register: false });
    const sha = await app.pushFiles({ VERSION: 'v1 from the agent' }, 'v1');
    const added = await server.api<{ buildIds: string[] }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
    });
    expect(added.status).toBe(201);
    const buildId = added.body.buildIds[0]!;

    agent = await spawnAgent(server.url, made.token, ['--labels', 'oci', ...SANDBOX], undefined, undefined, {
      DOCKER_HOST: dockerHost,
    });
    const build = await finishedBuild(server, buildId, 240_000);
    const log = await logsOf(server, buildId);
    expect(build.status, `${build.error}\n${log}\n${agent.output()}`).toBe('succeeded');
    expect(build.steps?.map((s) => [s.name, s.status])).toEqual([
      ['package', 'succeeded'],
      ['no-engine', 'succeeded'],
      ['image', 'succeeded'],
    ]);
    // Built on the agent: its lease started the build.
    const [started] = (await eventsOf(server, 'build.started')).filter((e) => e.subject === buildId);
    expect(started?.data).toMatchObject({ agent: made.name });
    expect(String(started?.data.runner)).toMatch(new RegExp(`^agent:${made.id}:`));
    expect(agent.output()).toMatch(new RegExp(`${buildId} succeeded \\(image `));

    // The image step's log is the agent's engine output, then the digest the server read.
    const repository = `${prefix}/agent-shop`;
    const registryDigest = await new RegistryClient({ host: registry, insecure: true }).manifestDigest(
      repository,
      sha,
    );
    expect(registryDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const imageLog = log.slice(log.indexOf('==> image\n'));
    expect(imageLog).toContain('answers from this agent machine');
    // This machine has no login of its own for the (login-free) registry: the engine pushes without.
    expect(imageLog).toContain(`gantry: no login for ${registry} on this machine (looked in `);
    expect(imageLog).toMatch(/gantry: building with (podman|Docker) .* \(Docker API /);
    expect(imageLog).toMatch(new RegExp(`(STEP|Step) 1/\\d+ ?: FROM ${baseImages.busybox}`));
    expect(imageLog).toContain(`gantry: the registry has ${registry}/${repository}@${registryDigest}`);

    const { body: artifact } = await server.api<Artifact>('GET', `/api/artifacts/${build.artifactId}`);
    expect(artifact).toMatchObject({ kind: 'image', sha, digest: registryDigest });
    expect(artifact.reference).toBe(`${registry}/${repository}@${registryDigest}`);
    expect(artifact.size).toBeGreaterThan(0);
    const created = await eventsOf(server, 'artifact.created');
    expect(created.map((e) => [e.data.kind, e.data.digest, e.data.reference])).toEqual([
      ['image', registryDigest, artifact.reference],
    ]);
    const succeeded = (await eventsOf(server, 'build.succeeded')).find((e) => e.subject === buildId);
    expect(succeeded?.data).toMatchObject({ kind: 'image', digest: registryDigest, artifactId: artifact.id });
    const inspected = await new Docker(engineOptions(dockerHost))
      .getImage(`${registry}/${repository}:${sha}`)
      .inspect();
    expect(inspected.Config.Labels).toMatchObject({
      'org.opencontainers.image.revision': sha,
      'org.opencontainers.image.source': app.bare.dir,
    });

    // The server deploys it with the container driver, as one of its own images.
    const deployed = await deployedTo(server, 'qa', sha, 120_000);
    expect(deployed.status, deployed.error ?? '').toBe('succeeded');
    expect(await serving(port)).toBe('v1 from the agent');
    agent.child.kill('SIGTERM');
    await agent.exited;
    agent = undefined;

    // A rebuild of the commit, claimed by hand (the tag is in the registry already): the job names
    // the image and carries no credentials, and the server records the registry's digest, not the agent's.
    const rebuild = await server.api<{ build: Build }>('POST', '/api/builds', {
      app: 'shop',
      ref: sha,
      rebuild: true,
    });
    const copyBuild = rebuild.body.build.id;
    const job = await claimByHand(server, made.token);
    expect(job.build.id).toBe(copyBuild);
    expect(job.image).toEqual({
      name: `${registry}/${repository}`,
      tag: sha,
      registry,
      registryUrl: `http://${registry}`,
      base: baseImages.busybox,
      command: 'exec httpd -f -p $PORT -h /app',
      source: app.bare.dir,
    });
    const raw = JSON.stringify(job);
    expect(raw).not.toContain(PASSWORD);
    expect(raw).not.toContain('gantry-ci');
    const finish = (body: Record<string, unknown>) =>
      agentCall(server, made.token, 'POST', `/api/agent/jobs/${copyBuild}/finish`, {
        lease: job.lease,
        status: 'succeeded',
        ...body,
      });
    const wrong = `sha256:${createHash('sha256').update('not the image').digest('hex')}`;
    const refused = await finish({ kind: 'image', digest: wrong });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { message: string }).message).toContain(
      `the agent says it pushed ${wrong}, but the registry has ${registryDigest}`,
    );
    const tarball = await finish({ digest: wrong, size: 1 });
    expect(tarball.status).toBe(400);
    expect(((await tarball.json()) as { message: string }).message).toContain('makes an image');
    expect((await server.api<Build>('GET', `/api/builds/${copyBuild}`)).body.status).toBe('running');
    const ok = await finish({ kind: 'image', digest: registryDigest });
    expect(ok.status).toBe(200);
    const copy = await finishedBuild(server, copyBuild);
    expect(copy.status).toBe('succeeded');
    const { body: copied } = await server.api<Artifact>('GET', `/api/artifacts/${copy.artifactId}`);
    expect(copied).toMatchObject({ kind: 'image', digest: registryDigest, reference: artifact.reference });
  });
});

describeContainers('image builds on agents that cannot build them (SQLite)', () => {
  let server: TestServer;
  let agent: AgentProcess | undefined;
  afterEach(async () => {
    agent?.child.kill('SIGKILL');
    await agent?.exited;
    agent = undefined;
    await server?.close();
  });

  it('fails the build on an agent machine without a container engine, saying to set DOCKER_HOST', async () => {
    server = await startTestServer({ name: 'sqlite' }, { registry: serverRegistry() });
    const made = await agentToken(server, ['oci']);
    const app = await createApp(server, imageApp('oci', await freePort()), { register: false });
    await app.pushFiles({ VERSION: 'v1' }, 'v1');
    const added = await server.api<{ buildIds: string[] }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
    });
    const missing = '/nonexistent/gantry-agent-engine.sock';
    agent = await spawnAgent(server.url, made.token, ['--labels', 'oci', ...SANDBOX], undefined, undefined, {
      DOCKER_HOST: `unix://${missing}`,
    });
    const build = await finishedBuild(server, added.body.buildIds[0]!, 120_000);
    expect(build.status, agent.output()).toBe('failed');
    expect(build.error).toMatch(
      /^the agent machine \S+ has no container engine to build build\.image with: /,
    );
    expect(build.error).toContain(`unix://${missing}`);
    expect(build.error).toContain('set DOCKER_HOST');
    expect(build.steps?.map((s) => [s.name, s.status])).toEqual([
      ['package', 'succeeded'],
      ['no-engine', 'succeeded'],
      ['image', 'failed'],
    ]);
    const log = await logsOf(server, build.id);
    expect(log.slice(log.indexOf('==> image\n'))).toContain('has no container engine');
    expect((await server.api<Artifact[]>('GET', '/api/artifacts?app=shop')).body).toEqual([]);
    expect(await eventsOf(server, 'artifact.created')).toEqual([]);
  });

  it('fails the build when the registry is unreachable from the agent machine, saying so', async () => {
    const closed = await freePort();
    const host = `127.0.0.1:${closed}`;
    server = await startTestServer({ name: 'sqlite' }, { registry: serverRegistry(host) });
    const made = await agentToken(server, ['oci']);
    const app = await createApp(server, imageApp('oci', await freePort()), { register: false });
    await app.pushFiles({ VERSION: 'v1' }, 'v1');
    const added = await server.api<{ buildIds: string[] }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
    });
    agent = await spawnAgent(server.url, made.token, ['--labels', 'oci', ...SANDBOX], undefined, undefined, {
      DOCKER_HOST: dockerHost,
    });
    const build = await finishedBuild(server, added.body.buildIds[0]!, 120_000);
    expect(build.status, agent.output()).toBe('failed');
    expect(build.error).toMatch(
      new RegExp(
        `^registry ${host} is unreachable from the agent machine \\S+ at http://${host}/v2/ \\(ECONNREFUSED\\)`,
      ),
    );
    expect(build.steps?.at(-1)).toMatchObject({ name: 'image', status: 'failed' });
    expect((await server.api<Artifact[]>('GET', '/api/artifacts?app=shop')).body).toEqual([]);
  });

  it("fails the build when the registry does not have the agent's image, and records nothing", async () => {
    server = await startTestServer({ name: 'sqlite' }, { registry: serverRegistry() });
    const made = await agentToken(server, ['oci']);
    const app = await createApp(server, imageApp('oci', await freePort()), { name: 'never-pushed' });
    const job = await claimByHand(server, made.token);
    expect(job.build.id).toBe(app.buildIds[0]);
    const res = await agentCall(server, made.token, 'POST', `/api/agent/jobs/${job.build.id}/finish`, {
      lease: job.lease,
      status: 'succeeded',
      kind: 'image',
    });
    expect(res.status).toBe(200);
    const build = await finishedBuild(server, job.build.id);
    expect(build.status).toBe('failed');
    expect(build.error).toBe(
      `the server's registry ${registry}/${prefix} (GANTRY_REGISTRY) does not have ${prefix}/agent-shop:${build.sha} after the agent's push; the agent's engine pushed it somewhere else or not at all (check its registry login and the registry it reaches)`,
    );
    expect(build.steps?.at(-1)).toMatchObject({ name: 'image', status: 'failed' });
    expect((await server.api<Artifact[]>('GET', '/api/artifacts?app=never-pushed')).body).toEqual([]);
    expect(await eventsOf(server, 'artifact.created')).toEqual([]);
  });
});

describe.each(engines)('an agent finishing with a lost lease on $name', (engine) => {
  it('is refused (409) before anything is written: no artifact, no step, the build as the sweeper left it', async () => {
    const server = await startTestServer(engine, { staleAfterMs: 1_000 });
    try {
      const made = await agentToken(server, ['lease']);
      const yaml = yamlWithSteps(['true']).replace('build:\n', 'build:\n  runs_on: [lease]\n');
      const app = await createApp(server, yaml, { name: 'leased' });
      const job = await claimByHand(server, made.token);
      expect(job.build.id).toBe(app.buildIds[0]);
      const bytes = Buffer.from('an artifact of a lost lease');
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      const put = await fetch(
        `${server.url}/api/agent/jobs/${job.build.id}/artifact?lease=${encodeURIComponent(job.lease)}&digest=${encodeURIComponent(digest)}`,
        {
          method: 'PUT',
          headers: { authorization: `Bearer ${made.token}`, 'content-type': 'application/octet-stream' },
          body: bytes,
        },
      );
      expect(put.status).toBe(200);
      // No heartbeats: the sweeper takes the build back and queues a retry.
      const interrupted = await finishedBuild(server, job.build.id);
      expect(interrupted.status).toBe('interrupted');
      const agents = server.gantry.agents;
      const running = { ...interrupted, status: 'running' } as Build;
      await expect(
        agents.finish(running, job.lease, { status: 'succeeded', digest, size: bytes.length }),
      ).rejects.toThrow(/lease on build .* is lost/);
      await expect(agents.finish(running, job.lease, { status: 'succeeded', kind: 'image' })).rejects.toThrow(
        /lease on build .* is lost/,
      );
      await expect(
        agents.finish(running, job.lease, { status: 'failed', error: 'late', exitCode: 1 }),
      ).rejects.toThrow(/lease on build .* is lost/);
      // Over HTTP the same: 409.
      const late = await agentCall(server, made.token, 'POST', `/api/agent/jobs/${job.build.id}/finish`, {
        lease: job.lease,
        status: 'succeeded',
        digest,
        size: bytes.length,
      });
      expect(late.status).toBe(409);
      expect((await server.api<Artifact[]>('GET', '/api/artifacts?app=leased')).body).toEqual([]);
      expect(await eventsOf(server, 'artifact.created')).toEqual([]);
      const after = (await server.api<Build>('GET', `/api/builds/${job.build.id}`)).body;
      expect(after).toMatchObject({ status: 'interrupted', artifactId: null, error: interrupted.error });
    } finally {
      await server.close();
    }
  });
});
