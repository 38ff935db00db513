import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import type { Artifact, Build, Deployment, GantryEvent } from '@gantry/contracts';
import Docker from 'dockerode';
import { afterAll, afterEach, expect, it } from 'vitest';
import type { ServerConfig } from '../../src/config/server-config.js';
import { engineOptions } from '../../src/containers/engine.js';
import { RegistryClient } from '../../src/containers/registry.js';
import { createApp, finishedBuild } from '../support/app-fixture.js';
import {
  baseImages,
  describeContainers,
  dockerHost,
  dockerSocket,
  registry,
} from '../support/container-fixtures.js';
import { engines } from '../support/engines.js';
import { cleanupAll, git } from '../support/git-fixtures.js';
import { HAS_BWRAP } from '../support/sandbox-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

afterAll(cleanupAll);

/** A port nothing listens on (it was free a moment ago). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Each test app gets a repository of its own in the shared registry, so runs never see each other's images. */
const prefix = `gantry-test-${process.pid}-${Date.now().toString(36)}`;
const serverRegistry = (): ServerConfig['registry'] => ({
  url: `${registry}/${prefix}`,
  host: registry,
  prefix,
  insecure: true,
});

const logsOf = async (server: TestServer, id: string) =>
  fetch(`${server.url}/api/builds/${id}/logs`, { headers: { authorization: `Bearer ${server.token}` } }).then(
    (r) => r.text(),
  );

const events = async (server: TestServer, type: string) =>
  (await server.api<GantryEvent[]>('GET', '/api/events?limit=1000')).body.filter((e) => e.type === type);

/** A step sees neither the engine's address nor (in the sandbox) its socket, nor the registry credentials. */
const noEngineCheck = [
  'test -z "$DOCKER_HOST$GANTRY_REGISTRY$GANTRY_REGISTRY_PASSWORD"',
  ...(HAS_BWRAP && dockerSocket ? [`test ! -e ${dockerSocket}`] : []),
].join(' && ');

const DOCKERFILE_APP = (env: string) => `app: shop
build:
  steps:
    - { name: package, run: "mkdir -p out && echo $GANTRY_SHA > out/sha.txt && echo secret > secret.txt" }
    - { name: no-engine, run: ${JSON.stringify(noEngineCheck)} }
  image: {}
environments:
  ${env}: { driver: container }
`;

const DOCKERFILE = `FROM ${baseImages.busybox}
COPY . /ctx/
RUN test -f /ctx/out/sha.txt && test ! -e /ctx/secret.txt && test ! -e /ctx/.git && test ! -e /ctx/.gantry-home
CMD ["cat", "/ctx/out/sha.txt"]
`;

describeContainers.each(engines)('image builds on $name', (engine) => {
  let server: TestServer;
  afterEach(async () => server?.close());

  it('builds a Dockerfile app into an image whose digest is the registry’s, once per SHA; a deleted image is refused at deploy', async () => {
    server = await startTestServer(engine, { registry: serverRegistry() });
    const app = await createApp(server, DOCKERFILE_APP('qa'), { register: false });
    await app.pushFiles({ Dockerfile: DOCKERFILE, '.dockerignore': 'secret.txt\n' }, 'dockerfile');
    const sha = (await app.work.run(['rev-parse', 'HEAD'])).stdout.trim();
    const add = await server.api<{ buildIds: string[] }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
    });
    const build = await finishedBuild(server, add.body.buildIds[0]!, 180_000);
    const log = await logsOf(server, build.id);
    expect(build.status, `${build.error}\n${log}`).toBe('succeeded');
    expect(build.steps?.map((s) => [s.name, s.status])).toEqual([
      ['package', 'succeeded'],
      ['no-engine', 'succeeded'],
      ['image', 'succeeded'],
    ]);
    expect(log).toContain('==> image\n');
    expect(log).toMatch(/gantry: building with (podman|Docker) .* \(Docker API /);

    const { body: artifact } = await server.api<Artifact>('GET', `/api/artifacts/${build.artifactId}`);
    const repository = `${prefix}/shop`;
    const registryDigest = await new RegistryClient({ host: registry, insecure: true }).manifestDigest(
      repository,
      sha,
    );
    expect(artifact).toMatchObject({ kind: 'image', sha, digest: registryDigest });
    expect(artifact.reference).toBe(`${registry}/${repository}@${registryDigest}`);
    expect(artifact.size).toBeGreaterThan(0);
    const created = await events(server, 'artifact.created');
    expect(created.map((e) => [e.data.kind, e.data.reference])).toEqual([['image', artifact.reference]]);

    const docker = new Docker(engineOptions(dockerHost));
    const inspected = await docker.getImage(`${registry}/${repository}:${sha}`).inspect();
    expect(inspected.Config.Labels).toMatchObject({
      'org.opencontainers.image.revision': sha,
      'org.opencontainers.image.source': app.bare.dir,
    });

    // Built once per SHA: asking again answers with the image.
    const again = await server.api<{ kind: string }>('POST', '/api/builds', { app: 'shop', ref: sha });
    expect(again.body.kind).toBe('artifact-exists');
    // An image has no tar.gz to download.
    const download = await fetch(`${server.url}/api/artifacts/${artifact.id}/download`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    expect(download.status).toBe(409);
    expect(((await download.json()) as { message: string }).message).toContain('is an image, not a tar.gz');

    // While the image is in the registry, the deployment would pass its gates.
    const dry = await server.api<{ refused: string | null }>('POST', '/api/apps/shop/deployments', {
      env: 'qa',
      ref: sha,
      dryRun: true,
    });
    expect(dry.body.refused).toBeNull();

    const del = await fetch(`http://${registry}/v2/${repository}/manifests/${registryDigest}`, {
      method: 'DELETE',
    });
    expect(del.status).toBe(202);
    const refused = await server.api<{ error: string; message: string }>(
      'POST',
      '/api/apps/shop/deployments',
      {
        env: 'qa',
        ref: sha,
        tag: true,
      },
    );
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain('was deleted from the registry');
    expect(refused.body.message).toContain(`gantry build ${sha.slice(0, 12)} --rebuild`);
    // Nothing is left behind: no deployment row, no deployment event, no deploy tag.
    expect((await server.api<Deployment[]>('GET', '/api/deployments?app=shop')).body).toEqual([]);
    expect(
      (await server.api<GantryEvent[]>('GET', '/api/events?limit=1000')).body.map((e) => e.type),
    ).not.toContain('deployment.rejected');
    expect((await git(['tag', '--list'], app.bare.dir)).stdout.trim()).toBe('');

    // A deploy tag pushed by hand has no one to answer: its refusal is recorded, with the reason.
    await app.work.run(['tag', 'deploy/qa/by-hand', sha]);
    await app.work.run(['push', 'origin', 'deploy/qa/by-hand']);
    await server.api('POST', '/api/apps/shop/sync');
    const [rejected] = (await server.api<Deployment[]>('GET', '/api/deployments?app=shop')).body;
    expect(rejected).toMatchObject({ status: 'rejected', trigger: 'tag', tag: 'deploy/qa/by-hand' });
    expect(rejected?.error).toContain('was deleted from the registry');
  });
});

describeContainers('image builds (SQLite)', () => {
  let server: TestServer;
  afterEach(async () => server?.close());

  it('copies the artifact folder into a base image with run.command as its entrypoint', async () => {
    server = await startTestServer({ name: 'sqlite' }, { registry: serverRegistry() });
    const yaml = `build:
  steps:
    - { name: package, run: "mkdir -p dist && echo 'console.log(process.version)' > dist/server.js" }
  artifact: { path: dist }
  image: { base: "${baseImages.node}", repository: base-app }
run: { command: node server.js, limits: { memory: 256m, cpus: 0.5 } }
`;
    const app = await createApp(server, yaml, { name: 'web' });
    const build = await finishedBuild(server, app.buildIds[0]!, 180_000);
    expect(build.status, `${build.error}\n${await logsOf(server, build.id)}`).toBe('succeeded');
    const { body: artifact } = await server.api<Artifact>('GET', `/api/artifacts/${build.artifactId}`);
    expect(artifact.kind).toBe('image');
    expect(artifact.reference).toMatch(new RegExp(`^${registry}/${prefix}/base-app@sha256:[0-9a-f]{64}$`));
    const sha = build.sha;
    const inspected = await new Docker(engineOptions(dockerHost))
      .getImage(`${registry}/${prefix}/base-app:${sha}`)
      .inspect();
    expect(inspected.Config.Entrypoint).toEqual(['/bin/sh', '-c', 'node server.js']);
    expect(inspected.Config.WorkingDir).toBe('/app');
    expect(inspected.Config.Labels?.['org.opencontainers.image.revision']).toBe(sha);
  });

  it("pushes to the app's own registry once an admin sets it; without any registry the build says how to set one", async () => {
    server = await startTestServer({ name: 'sqlite' });
    const yaml = `build:\n  steps: [{ name: s, run: "true" }]\n  image: {}\n`;
    const app = await createApp(server, yaml, { register: false });
    await app.pushFiles({ Dockerfile: `FROM ${baseImages.busybox}\nCMD ["true"]\n` });
    const add = await server.api<{ buildIds: string[] }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
    });
    const first = await finishedBuild(server, add.body.buildIds[0]!);
    expect(first.status).toBe('failed');
    expect(first.error).toContain('build.image needs a registry to push to: set GANTRY_REGISTRY');
    expect(first.error).toContain('gantry app registry shop <host[:port][/prefix]>');

    const bad = await server.api<{ message: string }>('PUT', '/api/apps/shop/registry', {
      url: 'no such host!',
    });
    expect(bad.status).toBe(400);
    const url = `${registry}/${prefix}-own`;
    const set = await server.api<{ registry: unknown }>('PUT', '/api/apps/shop/registry', {
      url,
      insecure: true,
    });
    expect(set.status).toBe(200);
    expect((await server.api('GET', '/api/apps/shop/registry')).body).toEqual({
      registry: { url, insecure: true, username: null, passwordEnv: null, passwordFile: null },
    });
    expect((await events(server, 'app.registry_changed')).length).toBe(1);
    const again = await server.api<{ build: Build }>('POST', '/api/builds', { app: 'shop', ref: first.sha });
    const build = await finishedBuild(server, again.body.build.id, 180_000);
    expect(build.status, `${build.error}`).toBe('succeeded');
    const { body: artifact } = await server.api<Artifact>('GET', `/api/artifacts/${build.artifactId}`);
    expect(artifact.reference).toMatch(new RegExp(`^${registry}/${prefix}-own/shop@sha256:`));
    expect((await server.api('DELETE', '/api/apps/shop/registry')).body).toEqual({ registry: null });
  });

  it('fails the build on a failing Dockerfile with the failing instruction and its output in the log', async () => {
    server = await startTestServer({ name: 'sqlite' }, { registry: serverRegistry() });
    const app = await createApp(server, 'build:\n  steps: [{ name: s, run: "true" }]\n  image: {}\n', {
      register: false,
    });
    await app.pushFiles({
      Dockerfile: `FROM ${baseImages.busybox}\nRUN echo about to fail && exit 3\n`,
    });
    const add = await server.api<{ buildIds: string[] }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
    });
    const build = await finishedBuild(server, add.body.buildIds[0]!, 180_000);
    expect(build.status).toBe('failed');
    expect(build.error).toContain('the image build failed');
    expect(build.artifactId).toBeNull();
    const log = await logsOf(server, build.id);
    expect(log).toContain('RUN echo about to fail && exit 3');
    expect(log).toContain('about to fail');
    expect(build.steps?.map((s) => [s.name, s.status])).toEqual([
      ['s', 'succeeded'],
      ['image', 'failed'],
    ]);
    expect((await server.api<Artifact[]>('GET', '/api/artifacts?app=shop')).body).toEqual([]);
  });

  it('fails without engine or artifact when the registry is down, and says so with the registry’s own words', async () => {
    const closed = await closedPort();
    const host = `127.0.0.1:${closed}`;
    server = await startTestServer(
      { name: 'sqlite' },
      { registry: { url: host, host, prefix: '', insecure: true } },
    );
    const app = await createApp(server, 'build:\n  steps: [{ name: s, run: "true" }]\n  image: {}\n');
    const build = await finishedBuild(server, app.buildIds[0]!);
    expect(build.status).toBe('failed');
    expect(build.error).toBe(
      `registry ${host} is unreachable at http://${host} (ECONNREFUSED); is it running, and is the address right?`,
    );
    expect(build.steps?.map((s) => [s.name, s.status])).toEqual([
      ['s', 'succeeded'],
      ['image', 'failed'],
    ]);
    expect((await server.api<Artifact[]>('GET', '/api/artifacts?app=shop')).body).toEqual([]);
    expect(await events(server, 'artifact.created')).toEqual([]);
  });

  it('fails with the registry’s own words when it refuses the credentials', async () => {
    const refusing = createHttpServer((_req, res) => {
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': 'Basic realm="registry"',
      });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(refusing.address() as AddressInfo).port}`;
    try {
      server = await startTestServer(
        { name: 'sqlite' },
        { registry: { url: host, host, prefix: '', insecure: true, username: 'ci', password: 'wrong' } },
      );
      const app = await createApp(server, 'build:\n  steps: [{ name: s, run: "true" }]\n  image: {}\n');
      const build = await finishedBuild(server, app.buildIds[0]!);
      expect(build.status).toBe('failed');
      expect(build.error).toBe(
        `registry ${host} answered 401 for the API root /v2/: UNAUTHORIZED: authentication required (check the registry credentials: GANTRY_REGISTRY_USERNAME and GANTRY_REGISTRY_PASSWORD or _PASSWORD_FILE)`,
      );
      expect((await server.api<Artifact[]>('GET', '/api/artifacts?app=shop')).body).toEqual([]);
    } finally {
      refusing.close();
    }
  });

  it('fails with how to get an engine when none answers', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///nonexistent/gantry-test.sock';
    try {
      server = await startTestServer({ name: 'sqlite' }, { registry: serverRegistry() });
      const app = await createApp(server, 'build:\n  steps: [{ name: s, run: "true" }]\n  image: {}\n');
      const build: Build = await finishedBuild(server, app.buildIds[0]!);
      expect(build.status).toBe('failed');
      expect(build.error).toContain('no container engine answers');
      expect(build.error).toContain('scripts/containers/setup.sh --env');
    } finally {
      process.env.DOCKER_HOST = saved;
    }
  });

  it('fails a build.image without a Dockerfile, or a base image without its artifact folder, saying what to add', async () => {
    server = await startTestServer({ name: 'sqlite' }, { registry: serverRegistry() });
    const app = await createApp(server, 'build:\n  steps: [{ name: s, run: "true" }]\n  image: {}\n');
    const build = await finishedBuild(server, app.buildIds[0]!);
    expect(build.status).toBe('failed');
    expect(build.error).toContain('build.image: there is no Dockerfile in the worktree after the steps ran');
    expect(build.error).toContain('build.image.base');
    const yaml = `build:\n  steps: [{ name: s, run: "true" }]\n  artifact: { path: dist }\n  image: { base: "${baseImages.busybox}" }\nrun: { command: x }\n`;
    const sha = await app.pushFiles({ 'gantry.yaml': yaml });
    const res = await server.api<{ build: Build }>('POST', '/api/builds', { app: 'shop', ref: sha });
    const noFolder = await finishedBuild(server, res.body.build.id);
    expect(noFolder.error).toContain('artifact path "dist" is not a folder after the build');
  });
});
