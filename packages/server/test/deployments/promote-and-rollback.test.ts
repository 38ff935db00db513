import type { Deployment, EnvironmentState } from '@gantry/contracts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { finishedBuild } from '../support/app-fixture.js';
import {
  createDeployableApp,
  deployedTo,
  deploymentDone,
  envPorts,
  latestDeployment,
  serving,
} from '../support/deploy-fixture.js';
import { cleanupAll, git } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

afterAll(cleanupAll);

describe('environments: auto-deploy, promotion by tag, rollback', () => {
  let server: TestServer;
  afterEach(async () => server.close());

  it('deploys each build of main to QA, promotes by tag, and rolls back through the same path', async () => {
    server = await startTestServer();
    const ports = await envPorts();
    const app = await createDeployableApp(server, ports);

    const qa1 = await deployedTo(server, 'qa', app.v1);
    expect(qa1).toMatchObject({ status: 'succeeded', trigger: 'auto', kind: 'start', previousSha: null });
    expect(qa1.phases.map((p) => p.name)).toEqual(expect.arrayContaining(['start', 'health', 'switch']));
    expect(await serving(ports.qa)).toBe('v1 hello-qa');

    // promotion by a pushed tag; the same tag seen again deploys once
    await app.work.tag('deploy/staging/first', { message: 'ship v1' });
    await app.work.run(['push', 'origin', 'deploy/staging/first']);
    await server.api('POST', '/api/apps/shop/sync');
    const st1 = await deployedTo(server, 'staging', app.v1);
    expect(st1).toMatchObject({
      status: 'succeeded',
      trigger: 'tag',
      tag: 'deploy/staging/first',
      reason: 'ship v1',
    });
    expect(await serving(ports.staging)).toBe('v1 hello-staging');
    await server.api('POST', '/api/apps/shop/sync');
    const stagingHistory = (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=staging'))
      .body;
    expect(stagingHistory).toHaveLength(1);

    // v2 arrives in QA, then a rollback is a switch to the warm v1
    const v2 = await app.pushFiles({ VERSION: 'v2' }, 'v2');
    await server.api('POST', '/api/apps/shop/sync');
    const qa2 = await deployedTo(server, 'qa', v2);
    expect(qa2).toMatchObject({ status: 'succeeded', previousSha: app.v1 });
    expect(await serving(ports.qa)).toBe('v2 hello-qa');

    const rb = await server.api<Deployment>('POST', '/api/apps/shop/environments/qa/rollback', {});
    expect(rb.status).toBe(201);
    const done = await deploymentDone(server, rb.body.id);
    expect(done).toMatchObject({
      status: 'succeeded',
      trigger: 'rollback',
      sha: app.v1,
      previousSha: v2,
      kind: 'switch',
    });
    expect(await serving(ports.qa)).toBe('v1 hello-qa');

    // the hold keeps auto-deploy from bringing v2 back; a newer commit lifts it
    const { body: envs } = await server.api<EnvironmentState[]>('GET', '/api/apps/shop/environments');
    expect(envs.find((e) => e.env === 'qa')?.hold?.sha).toBe(v2);
    const again = await server.api<{ kind: string; build?: { id: string } }>('POST', '/api/builds', {
      app: 'shop',
      ref: v2,
      rebuild: true,
    });
    await finishedBuild(server, again.body.build!.id);
    const manualAuto = await server.gantry.deployments.autoDeploy(await server.gantry.apps.get('shop'), v2);
    expect(manualAuto[0]).toMatchObject({ status: 'rejected', error: expect.stringContaining('holds') });
    const v3 = await app.pushFiles({ VERSION: 'v3' }, 'v3');
    await server.api('POST', '/api/apps/shop/sync');
    expect((await deployedTo(server, 'qa', v3)).status).toBe('succeeded');
    const { body: after } = await server.api<EnvironmentState[]>('GET', '/api/apps/shop/environments');
    expect(after.find((e) => e.env === 'qa')?.hold).toBeNull();
  });

  it('refuses bad deploy tags with a recorded reason', async () => {
    server = await startTestServer();
    const ports = await envPorts();
    const app = await createDeployableApp(server, ports);
    await deployedTo(server, 'qa', app.v1);
    // a commit that was never built: pushed and tagged while nothing syncs
    const unbuilt = await app.pushFiles({ VERSION: 'v9' }, 'never built');
    await app.work.tag('deploy/qa/unbuilt');
    await app.work.tag('deploy/moon/v1', {});
    await app.work.run(['tag', 'deploy/production/skip', app.v1]);
    await app.work.run(['push', 'origin', '--tags']);
    // scan the tags without syncing the branch, so `unbuilt` is never built
    const shop = await server.gantry.apps.get('shop');
    await server.gantry.apps.mirrorOf(shop).fetch();
    const scanned = await server.gantry.tagDeployer.scan(
      shop,
      server.gantry.apps.mirrorOf(shop),
      app.v1,
      false,
    );
    const byTag = new Map(scanned.map((d) => [d.tag, d]));
    expect(byTag.get('deploy/qa/unbuilt')).toMatchObject({
      status: 'rejected',
      sha: unbuilt,
      error: expect.stringContaining('has no artifact'),
    });
    expect(byTag.get('deploy/moon/v1')).toMatchObject({
      status: 'rejected',
      error: expect.stringContaining('environment "moon" is not declared'),
    });
    expect(byTag.get('deploy/production/skip')).toMatchObject({
      status: 'rejected',
      error: expect.stringContaining('never deployed healthy to "staging"'),
    });
    // refusals are visible in the API
    const { body: moon } = await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=moon');
    expect(moon[0]?.status).toBe('rejected');
  });

  it('gantry deploy creates and pushes an annotated tag naming who and why', async () => {
    server = await startTestServer();
    const ports = await envPorts();
    const app = await createDeployableApp(server, ports);
    await deployedTo(server, 'qa', app.v1);
    const res = await server.api<Deployment>('POST', '/api/apps/shop/deployments', {
      env: 'staging',
      ref: 'HEAD',
      tag: true,
      reason: 'release candidate',
      actor: 'alice',
    });
    expect(res.status).toBe(201);
    expect(res.body.tag).toMatch(new RegExp(`^deploy/staging/\\d{8}T\\d{6}Z-${app.v1.slice(0, 7)}$`));
    const done = await deploymentDone(server, res.body.id);
    expect(done).toMatchObject({ status: 'succeeded', trigger: 'cli' });
    const shown = await git(
      ['for-each-ref', '--format=%(contents)', `refs/tags/${res.body.tag}`],
      app.bare.dir,
    );
    expect(shown.stdout).toContain('By: alice');
    expect(shown.stdout).toContain('Why: release candidate');
    // the tag comes back through the poller/sync but deploys only once
    await server.api('POST', '/api/apps/shop/sync');
    expect(
      (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=staging')).body,
    ).toHaveLength(1);

    const prod = await server.api<{ error: string }>('POST', '/api/apps/shop/deployments', {
      env: 'production',
      ref: 'HEAD',
    });
    expect(prod.status).toBe(403);
    expect(
      (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=production')).body,
    ).toHaveLength(0);
    const confirmed = await server.api<Deployment>('POST', '/api/apps/shop/deployments', {
      env: 'production',
      ref: 'HEAD',
      confirm: true,
    });
    expect((await deploymentDone(server, confirmed.body.id)).status).toBe('succeeded');
    expect(await serving(ports.production)).toBe('v1');

    const nothing = await server.api<{ message: string }>(
      'POST',
      '/api/apps/shop/environments/production/rollback',
      { confirm: true },
    );
    expect(nothing.status).toBe(400);
    expect(nothing.body.message).toContain('nothing to roll back to');
    expect((await latestDeployment(server, 'production'))?.status).toBe('succeeded');
  });
});
