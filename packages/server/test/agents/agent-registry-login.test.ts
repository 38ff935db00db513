import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Artifact, Build } from '@gantry/contracts';
import bcrypt from 'bcryptjs';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { RegistryClient } from '../../src/containers/registry.js';
import { createApp, finishedBuild } from '../support/app-fixture.js';
import { baseImages, describeContainers, dockerHost } from '../support/container-fixtures.js';
import { cleanupAll, makeTempDir } from '../support/git-fixtures.js';
import { HAS_BWRAP } from '../support/sandbox-fixtures.js';
import { freePort } from '../support/server-process.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';
import { type AgentProcess, spawnAgent } from './agent-fixture.js';

// A registry that needs a login (distribution with htpasswd, plain HTTP on a port of its own), with
// two users: the server's, which reads manifests, and the agent machine's, which pushes. The server
// never sends its own to an agent; the agent pushes with the login `docker login` wrote on its
// machine, which the Docker daemon would not know by itself.
const SERVER = { username: 'gantry-server', password: `server-${process.pid}` };
const AGENT = { username: 'agent-pusher', password: `agent-${process.pid}` };

let registryProcess: ChildProcess | undefined;
let host = '';

beforeAll(async () => {
  if (!dockerHost) return;
  const dir = await makeTempDir('gantry-auth-registry-');
  const htpasswd = [SERVER, AGENT].map((u) => `${u.username}:${bcrypt.hashSync(u.password, 5)}`).join('\n');
  await writeFile(join(dir, 'htpasswd'), `${htpasswd}\n`);
  host = `127.0.0.1:${await freePort()}`;
  await writeFile(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} } }`,
      `http: { addr: "${host}", secret: test }`,
      `auth: { htpasswd: { realm: gantry-test, path: ${join(dir, 'htpasswd')} } }`,
    ].join('\n'),
  );
  registryProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  await waitFor(
    () =>
      fetch(`http://${host}/v2/`).then(
        (r) => (r.status === 401 ? true : undefined),
        () => undefined,
      ),
    'the htpasswd registry',
  );
});

afterAll(async () => {
  registryProcess?.kill('SIGKILL');
  await cleanupAll();
});

const yaml = `build:
  runs_on: [oci]
  steps:
    - { name: package, run: "mkdir -p dist && echo v1 > dist/index.html" }
  artifact: { path: dist }
  image: { base: "${baseImages.busybox}", repository: logged-in }
run:
  command: exec httpd -f -p $PORT -h /app
  port_env: PORT
environments:
  qa: { auto_deploy: false, driver: container }
`;

let server: TestServer | undefined;
let agent: AgentProcess | undefined;
afterEach(async () => {
  agent?.child.kill('SIGKILL');
  await agent?.exited;
  agent = undefined;
  await server?.close();
});

describeContainers('image builds on agents, to a registry that needs a login (SQLite)', () => {
  it("pushes with the agent machine's own docker login (config.json), never the server's; without one the push is refused", async () => {
    server = await startTestServer(
      { name: 'sqlite' },
      { registry: { url: `${host}/team`, host, prefix: 'team', insecure: true, ...SERVER } },
    );
    const made = await server.api<{ token: string }>('POST', '/api/agents/tokens', { labels: ['oci'] });
    expect(made.status).toBe(201);
    const token = made.body.token;
    const app = await createApp(server, yaml, { name: 'shop' });
    const sandbox = HAS_BWRAP ? ['--sandbox', 'bwrap'] : [];
    const logs = (id: string) =>
      fetch(`${server!.url}/api/builds/${id}/logs`, {
        headers: { authorization: `Bearer ${server!.token}` },
      }).then((r) => r.text());

    // An agent machine with no login: the engine's push is refused, and the log says where it looked.
    const bare = await makeTempDir('gantry-agent-docker-');
    agent = await spawnAgent(server.url, token, ['--labels', 'oci', ...sandbox], undefined, undefined, {
      DOCKER_HOST: dockerHost,
      DOCKER_CONFIG: bare,
    });
    const refused = await finishedBuild(server, app.buildIds[0]!, 240_000);
    expect(refused.status, agent.output()).toBe('failed');
    expect(refused.error).toMatch(
      new RegExp(`^pushing ${host}/team/logged-in:${refused.sha} to .* failed: .*`),
    );
    expect(refused.error).toMatch(/unauthorized|authentication required/i);
    expect(await logs(refused.id)).toContain(`gantry: no login for ${host} on this machine (looked in `);
    agent.child.kill('SIGKILL');
    await agent.exited;

    // The same machine after `docker login`: the rebuild pushes, and the server records the digest
    // it reads from the registry with its own login.
    const loggedIn = await makeTempDir('gantry-agent-docker-');
    await mkdir(loggedIn, { recursive: true });
    const auth = Buffer.from(`${AGENT.username}:${AGENT.password}`).toString('base64');
    await writeFile(join(loggedIn, 'config.json'), JSON.stringify({ auths: { [host]: { auth } } }));
    agent = await spawnAgent(server.url, token, ['--labels', 'oci', ...sandbox], undefined, undefined, {
      DOCKER_HOST: dockerHost,
      DOCKER_CONFIG: loggedIn,
    });
    const again = await server.api<{ build: Build }>('POST', '/api/builds', {
      app: 'shop',
      ref: refused.sha,
      rebuild: true,
    });
    expect(again.status).toBe(201);
    const built = await finishedBuild(server, again.body.build.id, 240_000);
    const log = await logs(built.id);
    expect(built.status, `${built.error}\n${log}`).toBe('succeeded');
    expect(log).toContain(
      `gantry: pushing with this machine's login for ${host} (user ${AGENT.username}, from ${join(loggedIn, 'config.json')})`,
    );
    expect(log).not.toContain(AGENT.password);
    const digest = await new RegistryClient({ host, insecure: true, auth: SERVER }).manifestDigest(
      'team/logged-in',
      built.sha,
    );
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const { body: artifact } = await server.api<Artifact>('GET', `/api/artifacts/${built.artifactId}`);
    expect(artifact).toMatchObject({ kind: 'image', digest, reference: `${host}/team/logged-in@${digest}` });
    // Nobody without a login reads it.
    expect((await fetch(`http://${host}/v2/team/logged-in/manifests/${built.sha}`)).status).toBe(401);
  });
});
