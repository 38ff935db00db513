import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/server-config.js';
import { parseRegistryAddress } from '../../src/containers/registry.js';
import { EventBus } from '../../src/events/event-bus.js';
import { SqlEventStore } from '../../src/events/sql-event-store.js';
import { checkAppRegistry } from '../../src/features/apps/app-registry.js';
import { SqlAppStore } from '../../src/features/apps/sql-app-store.js';
import { LocalBlobStore } from '../../src/features/artifacts/artifact-blob-store.js';
import { ArtifactService } from '../../src/features/artifacts/artifact-service.js';
import { ImageRegistries, referenceParts } from '../../src/features/artifacts/image-registries.js';
import { SqlArtifactStore } from '../../src/features/artifacts/sql-artifact-store.js';
import { baseDockerfile, withoutCredentials } from '../../src/features/builds/image-build.js';
import { ignoreMatcher } from '../../src/features/builds/image-context.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { openTestDatabase } from '../support/test-database.js';

afterAll(cleanupAll);

describe('container network setting', () => {
  it('is host unless GANTRY_CONTAINER_NETWORK says bridge; anything else is an error', () => {
    expect(loadServerConfig({}, {}).config.containerNetwork).toBe('host');
    expect(loadServerConfig({}, { GANTRY_CONTAINER_NETWORK: 'bridge' }).config.containerNetwork).toBe(
      'bridge',
    );
    expect(loadServerConfig({}, { GANTRY_CONTAINER_NETWORK: 'none' }).errors).toEqual([
      'GANTRY_CONTAINER_NETWORK=none: expected host or bridge',
    ]);
  });
});

describe('registry settings', () => {
  it('reads GANTRY_REGISTRY and its credentials; TLS on unless GANTRY_REGISTRY_INSECURE=1', () => {
    const { config, errors } = loadServerConfig(
      {},
      {
        GANTRY_REGISTRY: 'registry.example.com:5000/team/ci',
        GANTRY_REGISTRY_USERNAME: 'ci',
        GANTRY_REGISTRY_PASSWORD: 's3cret',
      },
    );
    expect(errors).toEqual([]);
    expect(config.registry).toEqual({
      url: 'registry.example.com:5000/team/ci',
      host: 'registry.example.com:5000',
      prefix: 'team/ci',
      insecure: false,
      username: 'ci',
      password: 's3cret',
    });
    expect(
      loadServerConfig({}, { GANTRY_REGISTRY: '127.0.0.1:5000', GANTRY_REGISTRY_INSECURE: '1' }).config
        .registry,
    ).toMatchObject({ host: '127.0.0.1:5000', prefix: '', insecure: true });
    expect(loadServerConfig({}, {}).config.registry).toBeUndefined();
  });

  it.each([
    [
      { GANTRY_REGISTRY: 'not a host' },
      'GANTRY_REGISTRY=not a host: registry "not a host": "not a host" is not a host[:port]',
    ],
    [{ GANTRY_REGISTRY: 'r.example.com/Team' }, 'the prefix "Team" is not a repository path'],
    [
      { GANTRY_REGISTRY: 'r.example.com', GANTRY_REGISTRY_INSECURE: 'yes' },
      'GANTRY_REGISTRY_INSECURE=yes: expected 1 or 0',
    ],
    [{ GANTRY_REGISTRY: 'r.example.com', GANTRY_REGISTRY_PASSWORD: 'x' }, 'GANTRY_REGISTRY_USERNAME is not'],
    [
      {
        GANTRY_REGISTRY: 'r.example.com',
        GANTRY_REGISTRY_USERNAME: 'u',
        GANTRY_REGISTRY_PASSWORD: 'x',
        GANTRY_REGISTRY_PASSWORD_FILE: '/p',
      },
      'both set: keep one',
    ],
    [{ GANTRY_REGISTRY_USERNAME: 'u' }, 'GANTRY_REGISTRY is not'],
  ])('refuses %j', (env, message) => {
    const { errors } = loadServerConfig({}, env);
    expect(errors.join('\n')).toContain(message);
  });

  it('parses host[:port][/prefix] with or without a scheme', () => {
    expect(parseRegistryAddress('https://ghcr.io/acme/')).toEqual({
      host: 'https://ghcr.io',
      prefix: 'acme',
    });
    expect(parseRegistryAddress('[::1]:5000')).toEqual({ host: '[::1]:5000', prefix: '' });
    expect(() => parseRegistryAddress('')).toThrow('is not a host[:port]');
  });

  it("checks an app's registry: the password only by variable name or absolute file, with a username", () => {
    expect(checkAppRegistry({ url: 'r.example.com/team', username: 'ci', passwordEnv: 'SHOP_PW' })).toEqual({
      url: 'r.example.com/team',
      insecure: false,
      username: 'ci',
      passwordEnv: 'SHOP_PW',
      passwordFile: null,
    });
    expect(() => checkAppRegistry({ url: 'r.example.com', passwordEnv: 'X' })).toThrow('needs a username');
    expect(() => checkAppRegistry({ url: 'r.example.com', username: 'u', passwordEnv: 'A-B' })).toThrow(
      'is not an environment variable name',
    );
    expect(() => checkAppRegistry({ url: 'r.example.com', username: 'u', passwordFile: 'pw.txt' })).toThrow(
      'expected an absolute path',
    );
    expect(() =>
      checkAppRegistry({ url: 'r.example.com', username: 'u', passwordFile: '/pw', passwordEnv: 'P' }),
    ).toThrow('not both');
    expect(() => checkAppRegistry({ url: 'http://' })).toThrow('url: registry');
  });

  it("resolves an app's registry before the server's, reading passwords when used", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gantry-pw-'));
    await writeFile(join(dir, 'pw'), 'from-file\n');
    const server = {
      url: 'r.example.com/team',
      host: 'r.example.com',
      prefix: 'team',
      insecure: false,
      username: 'u',
      passwordFile: join(dir, 'pw'),
    };
    const registries = new ImageRegistries(server, { SHOP_PW: 'from-env' });
    const viaServer = await registries.forApp({ name: 'shop', registry: null });
    expect(viaServer.config.auth).toEqual({ username: 'u', password: 'from-file' });
    expect(viaServer.repository('shop')).toBe('team/shop');
    expect(viaServer.repository('shop', 'other/name')).toBe('team/other/name');
    const own = {
      url: '127.0.0.1:5000',
      insecure: true,
      username: 'ci',
      passwordEnv: 'SHOP_PW',
      passwordFile: null,
    };
    const viaApp = await registries.forApp({ name: 'shop', registry: own });
    expect([viaApp.name, viaApp.repository('shop'), viaApp.config]).toEqual([
      '127.0.0.1:5000',
      'shop',
      {
        host: '127.0.0.1:5000',
        insecure: true,
        auth: { username: 'ci', password: 'from-env' },
        credentialsHint: "the app's own registry, see `gantry app registry shop`",
      },
    ]);
    // Pulls go with the credentials of whichever registry the reference names.
    const ref = `r.example.com/team/shop@sha256:${'a'.repeat(64)}`;
    expect((await registries.forReference({ name: 'shop', registry: own }, ref)).config.auth?.password).toBe(
      'from-file',
    );
    expect(
      (await registries.forReference({ name: 'shop', registry: null }, `elsewhere.io/x@sha256:1`)).config,
    ).toEqual({
      host: 'elsewhere.io',
      insecure: false,
    });
    await expect(new ImageRegistries(undefined).forApp({ name: 'shop', registry: null })).rejects.toThrow(
      'build.image needs a registry to push to: set GANTRY_REGISTRY',
    );
    await expect(new ImageRegistries(undefined, {}).forApp({ name: 'shop', registry: own })).rejects.toThrow(
      'the environment variable SHOP_PW, which the server does not have',
    );
    expect(referenceParts(ref)).toEqual({
      registry: 'r.example.com',
      repository: 'team/shop',
      digest: `sha256:${'a'.repeat(64)}`,
    });
  });
});

describe('image build helpers', () => {
  it('reads .dockerignore as Docker does: globs, folders, exceptions, the last match wins', () => {
    const ignored = ignoreMatcher([
      '# comment',
      'node_modules',
      '*.log',
      '**/secret*',
      'docs/',
      '!docs/keep.md',
      '/tmp?',
    ]);
    const check = (p: string) => ignored(p);
    expect(
      ['node_modules', 'node_modules/x/y.js', 'a.log', 'deep/in/secret.txt', 'docs/a.md', 'tmp1'].map(check),
    ).toEqual([true, true, true, true, true, true]);
    expect(['src/a.log', 'docs/keep.md', 'tmp', 'server.js'].map(check)).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(ignored.hasExceptions).toBe(true);
  });

  it('writes the Dockerfile of a base image, and keeps credentials out of the source label', () => {
    expect(baseDockerfile('node:20', 'node "server.js"')).toBe(
      'FROM node:20\nWORKDIR /app\nCOPY app/ /app/\nENTRYPOINT ["/bin/sh","-c","node \\"server.js\\""]\n',
    );
    expect(withoutCredentials('https://ci:tok3n@git.example.com/shop.git')).toBe(
      'https://git.example.com/shop.git',
    );
    expect(withoutCredentials('git@github.com:acme/shop.git')).toBe('git@github.com:acme/shop.git');
  });
});

describe('pruning image artifacts', () => {
  it('marks an image pruned and never deletes anything for it (its registry keeps it)', async () => {
    const database = await openTestDatabase({ name: 'sqlite' });
    try {
      const { db } = database;
      const app = await new SqlAppStore(db).insert({
        id: 'app_1',
        name: 'shop',
        repoUrl: '/repo.git',
        branch: 'main',
        webhookSecret: 'secret',
        pollIntervalMs: 0,
      });
      const store = new SqlArtifactStore(db);
      const blobs = new LocalBlobStore(join(database.dataDir, 'artifacts'));
      const deleted: string[] = [];
      const watched = Object.assign(Object.create(blobs) as LocalBlobStore, {
        delete: async (digest: string) => void deleted.push(digest),
      });
      const service = new ArtifactService(store, watched, new SqlEventStore(db, new EventBus()));
      const digest = `sha256:${'b'.repeat(64)}`;
      const image = { appId: app.id, sha: 'a', kind: 'image' as const, digest, size: 5, buildId: 'b1' };
      const old = await store.insertCurrent({ ...image, reference: `r.example.com/shop@${digest}` });
      await store.insertCurrent({ ...image, buildId: 'b2', reference: `r.example.com/shop@${digest}` });
      const res = await service.prune({ actor: 'test' });
      expect(res.pruned.map((a) => a.id)).toEqual([old.id]);
      expect(res.freedBytes).toBe(0);
      expect(deleted).toEqual([]);
      expect((await store.find(old.id))?.prunedAt).not.toBeNull();
      await expect(service.localPath(old)).rejects.toThrow('is an image, not a tar.gz');
    } finally {
      await database.close();
    }
  });
});
