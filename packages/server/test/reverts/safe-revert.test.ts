import type { Deployment, GantryEvent, Revert } from '@gantry/contracts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { serving } from '../support/deploy-fixture.js';
import { cleanupAll, git } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { commitMessage, createRevertApp, deployedTo, revertDone, verification } from './revert-fixture.js';

afterAll(cleanupAll);

async function reverts(server: TestServer): Promise<Revert[]> {
  return (await server.api<Revert[]>('GET', '/api/reverts?app=shop')).body;
}

describe('reverting what fails QA, safely', () => {
  let server: TestServer;
  afterEach(async () => server?.close());

  it('reverts a commit that fails QA and the revert reaches QA, verified', async () => {
    server = await startTestServer();
    const app = await createRevertApp(server);
    const [bad] = await app.pushCommits([{ files: { VERSION: 'bad-2' }, message: 'a broken change' }]);
    const failed = await deployedTo(server, 'qa', bad!);
    expect((await verification(server, failed.id)).verification).toBe('check_failed');

    const r = await revertDone(server);
    expect(r).toMatchObject({
      status: 'reverted',
      deploymentId: failed.id,
      sha: bad,
      goodSha: app.v1,
      blamedSha: bad,
      check: 'smoke',
      mode: 'auto',
    });
    expect(r.steps.map((s) => s.step)).toEqual(['guard-deploy', 'guard', 'confirm', 'blame', 'reverted']);
    expect(r.steps.find((s) => s.step === 'confirm')).toMatchObject({
      sha: bad,
      result: 'fails: its checks fail',
    });
    // the revert is on main in the app's own repository, with Gantry's trailers
    const head = (await git(['rev-parse', 'main'], app.bare.dir)).stdout.trim();
    expect(head).toBe(r.revertSha);
    const message = await commitMessage(app.bare.dir, 'main');
    expect(message).toContain(`This reverts commit ${bad}.`);
    expect(message).toContain(`Gantry-Revert-Of: ${bad}`);
    expect(message).toContain('Gantry-Failed-Check: smoke');
    // and it flows through the pipeline like any commit: built, deployed to QA, verified
    const revertDeployment = await deployedTo(server, 'qa', r.revertSha!, 90_000);
    expect(revertDeployment).toMatchObject({ status: 'succeeded', trigger: 'auto' });
    expect((await verification(server, revertDeployment.id)).verification).toBe('verified');
    expect(await serving(app.ports.qa)).toBe('v1');
    const pushed = (await server.api<GantryEvent[]>('GET', '/api/events?type=revert.pushed')).body;
    expect(pushed).toHaveLength(1);
    expect(pushed[0]!.data).toMatchObject({ blamed: bad, revertSha: r.revertSha, branch: 'main' });

    // a server that stopped after the push but before it recorded it resumes without a second revert
    await server.gantry.database.db
      .updateTable('reverts')
      .set({ status: 'reverting' })
      .where('id', '=', r.id)
      .execute();
    await server.gantry.reverter.recover();
    await server.gantry.reverter.idle();
    const resumed = (await server.api<Revert[]>('GET', '/api/reverts?app=shop')).body[0]!;
    expect(resumed).toMatchObject({ id: r.id, status: 'reverted', revertSha: r.revertSha });
    const all = (await git(['log', '--format=%H', '--grep=^Gantry-Revert-Of: ', 'main'], app.bare.dir))
      .stdout;
    expect(all.split('\n').filter(Boolean)).toEqual([r.revertSha]);
  });

  it('bisects a release of three commits and blames the middle one', async () => {
    server = await startTestServer();
    const app = await createRevertApp(server);
    const [c1, c2, c3] = await app.pushCommits([
      { files: { VERSION: 'c1' }, message: 'c1: fine' },
      { files: { VERSION: 'bad-c2' }, message: 'c2: broken' },
      { files: { 'NOTES.md': 'c3\n' }, message: 'c3: fine, on top of the broken one' },
    ]);
    const failed = await deployedTo(server, 'qa', c3!);
    expect((await verification(server, failed.id)).verification).toBe('check_failed');
    const r = await revertDone(server);
    expect(r).toMatchObject({ status: 'reverted', blamedSha: c2, sha: c3 });
    const bisected = r.steps.filter((s) => s.step === 'bisect');
    // between v1 (verified) and c3 (failed): c1 passes, then c2 fails
    expect(bisected.map((s) => [s.sha, s.result])).toEqual([
      [c1, 'passes its checks'],
      [c2, 'fails: its checks fail'],
    ]);
    // the commits it tested were built (never rebuilt) and deployed with trigger bisect
    const qa = (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa&limit=50')).body;
    expect(qa.filter((d) => d.trigger === 'bisect').map((d) => d.sha)).toEqual(
      expect.arrayContaining([c1, c2, app.v1]),
    );
    expect(await commitMessage(app.bare.dir, 'main')).toContain(`Gantry-Revert-Of: ${c2}`);
    const revertDeployment = await deployedTo(server, 'qa', r.revertSha!, 90_000);
    expect((await verification(server, revertDeployment.id)).verification).toBe('verified');
    expect(await serving(app.ports.qa)).toBe('c1');
  });

  it('a flaky check reverts nothing', async () => {
    server = await startTestServer();
    const app = await createRevertApp(server);
    const flaky = `#!/bin/sh\n[ -f .tried ] || { touch .tried; echo flaked; exit 1; }\n`;
    const [v2] = await app.pushCommits([
      { files: { VERSION: 'v2', 'smoke.sh': flaky }, message: 'a flaky check' },
    ]);
    const d = await deployedTo(server, 'qa', v2!);
    expect((await verification(server, d.id)).verification).toBe('verified');
    expect(await reverts(server)).toEqual([]);
  });
});
