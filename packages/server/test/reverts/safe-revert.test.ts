import type { Deployment, GantryEvent, Incident, Revert } from '@gantry/contracts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { serving } from '../support/deploy-fixture.js';
import { cleanupAll, git } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';
import {
  commitMessage,
  createRevertApp,
  dependency,
  deployedTo,
  revertDone,
  verification,
} from './revert-fixture.js';

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
    expect(r.steps.map((s) => s.step)).toEqual(['guard-deploy', 'guard', 'blame', 'reverted']);
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

  it('reverts nothing when the environment is broken, and opens an incident saying so', async () => {
    server = await startTestServer();
    const dep = await dependency();
    try {
      const app = await createRevertApp(server, { depUrl: dep.url });
      dep.setBroken(true);
      const [innocent] = await app.pushCommits([{ files: { VERSION: 'v2' }, message: 'an innocent change' }]);
      const failed = await deployedTo(server, 'qa', innocent!);
      expect((await verification(server, failed.id)).verification).toBe('check_failed');
      const r = await revertDone(server);
      expect(r.status).toBe('skipped');
      expect(r.blamedSha).toBeNull();
      expect(r.why).toContain('qa is broken, not the commit');
      expect((await git(['rev-parse', 'main'], app.bare.dir)).stdout.trim()).toBe(innocent);
      const incidents = (await server.api<Incident[]>('GET', '/api/incidents?app=shop')).body;
      expect(incidents.map((i) => i.title)).toEqual(
        expect.arrayContaining([
          expect.stringContaining('qa is broken: the checks fail on the last verified release'),
        ]),
      );
    } finally {
      await dep.close();
    }
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

  it('proposes a revert on a branch when it does not apply on main any more, and never reverts a revert', async () => {
    server = await startTestServer();
    const app = await createRevertApp(server, { mode: 'auto' });
    const [bad] = await app.pushCommits([{ files: { VERSION: 'bad-2' }, message: 'a broken change' }]);
    const failed = await deployedTo(server, 'qa', bad!);
    // main moves on (the server has not seen it yet) and touches the same line
    await app.pushCommits([{ files: { VERSION: 'v3' }, message: 'v3 on top' }], false);
    expect((await verification(server, failed.id)).verification).toBe('check_failed');
    const r = await revertDone(server);
    expect(r.status).toBe('proposed');
    expect(r.branch).toBe(`gantry/revert-${bad!.slice(0, 12)}`);
    expect(r.why).toContain('conflicts in VERSION');
    const onBranch = await commitMessage(app.bare.dir, r.branch!);
    expect(onBranch).toContain(`Gantry-Revert-Of: ${bad}`);
    // the proposal is the revert on top of the failed release, main untouched
    expect((await git(['rev-parse', `${r.branch}^`], app.bare.dir)).stdout.trim()).toBe(bad);
    expect(await commitMessage(app.bare.dir, 'main')).toBe('v3 on top');

    // a fix passes; then someone reverts by hand, badly: the broken revert is blamed, and never reverted
    const [fix] = await app.pushCommits([{ files: { VERSION: 'v5' }, message: 'fix' }]);
    expect((await verification(server, (await deployedTo(server, 'qa', fix!)).id)).verification).toBe(
      'verified',
    );
    const [revertOfRevert] = await app.pushCommits([
      { files: { VERSION: 'bad-4' }, message: `Revert "v3 on top"\n\nThis reverts commit ${app.v1}.` },
    ]);
    const d4 = await waitFor(
      async () =>
        (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa&limit=50')).body.find(
          (d) => d.sha === revertOfRevert && d.status === 'succeeded',
        ),
      'the revert-of-revert deployment',
    );
    expect((await verification(server, d4.id)).verification).toBe('check_failed');
    const second = await waitFor(async () => {
      const all = await reverts(server);
      return all.length === 2 && !['guarding', 'bisecting', 'reverting'].includes(all[0]!.status)
        ? all[0]
        : undefined;
    }, 'the second revert');
    expect(second).toMatchObject({ status: 'skipped', blamedSha: revertOfRevert });
    expect(second!.why).toContain('is itself a revert; Gantry never reverts a revert');
  });
});
