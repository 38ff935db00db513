import type { Artifact, Deployment, EnvironmentState } from '@gantry/contracts';
import { afterAll, expect, it } from 'vitest';
import { createApp, finishedBuild } from '../../server/test/support/app-fixture.js';
import { baseImages, describeContainers, registry } from '../../server/test/support/container-fixtures.js';
import { cleanupAll } from '../../server/test/support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../../server/test/support/test-server.js';
import { makeCliSandbox } from './support/run-cli.js';

const prefix = `gantry-cli-${process.pid}-${Date.now().toString(36)}`;

const SERVER_JS = `require('node:http')
  .createServer((req, res) => res.end(req.url === '/healthz' ? 'ok' : 'hello'))
  .listen(Number(process.env.PORT));
`;

const YAML = `build:
  steps:
    - { name: package, run: "mkdir -p dist && cp server.js dist/" }
  artifact: { path: dist }
  image: { base: "${baseImages.node}" }
run: { command: node server.js }
environments:
  qa: { driver: container, auto_deploy: true, standby: 0 }
  production: { driver: container, promote_from: staging }
  staging: { driver: container, promote_from: qa }
`;

let server: TestServer | undefined;
afterAll(async () => {
  await server?.close();
  await cleanupAll();
});

describeContainers('the CLI with image artifacts', () => {
  it('artifacts, status and history show the image reference; deploy and rollback --to take images; app registry shows, sets and clears', async () => {
    server = await startTestServer(
      { name: 'sqlite' },
      { registry: { url: `${registry}/${prefix}`, host: registry, prefix, insecure: true } },
    );
    const s = server;
    const cli = await makeCliSandbox({ GANTRY_URL: s.url, GANTRY_TOKEN: s.token });
    const app = await createApp(s, YAML, { register: false });
    await app.pushFiles({ 'server.js': SERVER_JS });
    const add = await s.api<{ buildIds: string[] }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
    });
    const build = await finishedBuild(s, add.body.buildIds[0]!, 180_000);
    expect(build.status, build.error ?? '').toBe('succeeded');
    let seen: Deployment[] = [];
    const deployed = await waitFor(
      async () => {
        seen = (await s.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa')).body;
        return seen.find((d) => !['queued', 'running'].includes(d.status));
      },
      'the auto-deployment to qa',
      120_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; deployments: ${JSON.stringify(seen)}`);
    });
    expect(deployed.status, deployed.error ?? '').toBe('succeeded');

    const [artifact] = await cli.json<Artifact[]>(['artifacts', '--json']);
    expect(artifact).toMatchObject({ kind: 'image', sha: build.sha });
    expect(artifact?.reference).toBe(`${registry}/${prefix}/shop@${artifact?.digest}`);
    const table = await cli.run(['artifacts']);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^ID\s+APP\s+SHA\s+KIND\s+DIGEST\s+REFERENCE\s+SIZE\s+BUILD\s+CREATED\s+STATE$/,
    );
    expect(table.stdout).toContain(` image  ${artifact!.digest.slice(0, 19)} `);
    expect(table.stdout).toContain(artifact!.reference!);

    const again = await cli.run(['build', build.sha, '--app', 'shop']);
    expect(again.stdout).toContain(`already has an image, ${artifact!.reference} (built once, never again)`);

    const shortRef = artifact!.reference!.replace(/(@sha256:[0-9a-f]{12})[0-9a-f]+$/, '$1');
    const status = await cli.run(['status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout.split('\n')[0]).toMatch(/^APP\s+ENV\s+SHA\s+IMAGE\s+COMMIT\s+/);
    expect(status.stdout).toMatch(
      new RegExp(`shop\\s+qa\\s+${build.sha.slice(0, 10)}\\s+${escapeRegExp(shortRef)}\\s`),
    );

    // Refused by promote_from (never in staging): recorded, with its image.
    const refused = await cli.run(['deploy', 'production', build.sha, '--no-tag', '--app', 'shop', '--yes']);
    expect(refused.code).not.toBe(0);
    const history = await cli.run(['history', 'production', '--app', 'shop']);
    expect(history.stdout.split('\n')[0]).toMatch(/^ID\s+SHA\s+IMAGE\s+FROM\s+TRIGGER\s+STATUS/);
    expect(history.stdout).toContain(shortRef);
    expect(history.stdout).toContain('rejected');

    // A second image, deployed by the CLI, then `rollback --to` the first: an image like a tarball.
    const v2 = await app.pushFiles({ 'server.js': SERVER_JS.replace("'hello'", "'hello v2'") }, 'v2');
    const built2 = await cli.run(['build', v2, '--app', 'shop']);
    expect(built2.code, built2.stdout + built2.stderr).toBe(0);
    const deploy2 = await cli.run(['deploy', 'qa', v2, '--no-tag', '--app', 'shop', '--yes']);
    expect(deploy2.code, deploy2.stdout + deploy2.stderr).toBe(0);
    const qa = (await cli.json<EnvironmentState[]>(['status', '--json'])).find((e) => e.env === 'qa')!;
    expect(await (await fetch(qa.url)).text()).toBe('hello v2');
    const back = await cli.run(['rollback', 'qa', '--to', build.sha, '--app', 'shop', '--yes']);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(await (await fetch(qa.url)).text()).toBe('hello');
    const [last] = (await s.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa&limit=1')).body;
    expect(last).toMatchObject({ sha: build.sha, trigger: 'rollback', status: 'succeeded' });

    const none = await cli.run(['app', 'registry', 'shop']);
    expect(none.stdout).toBe(
      "shop: images go to the server's registry (GANTRY_REGISTRY); set one with `gantry app registry shop <host[:port][/prefix]>`\n",
    );
    const set = await cli.run([
      'app',
      'registry',
      'shop',
      'registry.example.com/team',
      '--username',
      'ci',
      '--password-env',
      'SHOP_REGISTRY_PASSWORD',
    ]);
    expect(set.stdout).toBe(
      'shop: images go to registry.example.com/team/shop (TLS), as ci, password from $SHOP_REGISTRY_PASSWORD\n',
    );
    const bad = await cli.run([
      'app',
      'registry',
      'shop',
      'registry.example.com',
      '--password-file',
      'pw.txt',
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('passwordFile "pw.txt": expected an absolute path');
    expect(
      (await cli.json<{ registry: unknown }>(['app', 'registry', 'shop', '--clear', '--json'])).registry,
    ).toBeNull();
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
