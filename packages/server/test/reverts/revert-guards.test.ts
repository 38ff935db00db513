import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  SMOKE_SH,
  verification,
} from './revert-fixture.js';

afterAll(cleanupAll);

async function reverts(server: TestServer): Promise<Revert[]> {
  return (await server.api<Revert[]>('GET', '/api/reverts?app=shop')).body;
}

describe('what a revert never does', () => {
  let server: TestServer;
  afterEach(async () => server?.close());

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

  it('reverts nothing when the failure does not repeat after the guard (A/B/A)', async () => {
    server = await startTestServer();
    const dep = await dependency();
    try {
      const app = await createRevertApp(server, { depUrl: dep.url });
      dep.failNext(2); // the innocent commit's check and its retry fail; nothing after
      const [innocent] = await app.pushCommits([{ files: { VERSION: 'v2' }, message: 'an innocent change' }]);
      const failed = await deployedTo(server, 'qa', innocent!);
      expect((await verification(server, failed.id)).verification).toBe('check_failed');
      const r = await revertDone(server);
      expect(r.status).toBe('skipped');
      expect(r.steps.map((s) => [s.step, s.result.split(':')[0]])).toEqual([
        ['guard-deploy', 'the failed check rolled the environment back to it'],
        ['guard', `the last verified release ${app.v1.slice(0, 12)} passes its checks again`],
        ['confirm', 'passes its checks'],
        ['skipped', `${innocent!.slice(0, 12)} passed its checks when tried again after the guard`],
      ]);
      expect((await git(['rev-parse', 'main'], app.bare.dir)).stdout.trim()).toBe(innocent);
    } finally {
      await dep.close();
    }
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

  it('stops testing in QA when a newer commit arrives meanwhile, and leaves QA to it', async () => {
    server = await startTestServer();
    const app = await createRevertApp(server);
    const slowSmoke = SMOKE_SH.replace('#!/bin/sh\n', '#!/bin/sh\nsleep 2\n');
    const [bad] = await app.pushCommits([
      { files: { VERSION: 'bad-2', 'smoke.sh': slowSmoke }, message: 'broken' },
    ]);
    await waitFor(async () => {
      const [r] = (await server.api<Revert[]>('GET', '/api/reverts?app=shop')).body;
      return r?.steps.some((s) => s.step === 'guard') ? r : undefined;
    }, 'the guard to pass');
    const [fix] = await app.pushCommits([
      { files: { VERSION: 'v3', 'smoke.sh': SMOKE_SH }, message: 'fixed' },
    ]);
    const r = await revertDone(server);
    expect(r).toMatchObject({ status: 'skipped', sha: bad });
    expect(r.why).toContain(`a newer release ${fix!.slice(0, 12)} reached qa while Gantry was testing`);
    const d = await deployedTo(server, 'qa', fix!);
    expect((await verification(server, d.id)).verification).toBe('verified');
    await server.gantry.reverter.idle();
    expect(await serving(app.ports.qa)).toBe('v3');
    expect((await git(['rev-parse', 'main'], app.bare.dir)).stdout.trim()).toBe(fix);
  });

  it('records why when the push of the revert is refused, and pushes nothing else', async () => {
    server = await startTestServer();
    const app = await createRevertApp(server);
    const [bad] = await app.pushCommits([{ files: { VERSION: 'bad-2' }, message: 'broken' }], false);
    // main is protected from here on: the repository refuses every push
    const hook = join(app.bare.dir, 'hooks', 'pre-receive');
    await writeFile(hook, '#!/bin/sh\necho "main is protected: open a pull request" >&2\nexit 1\n');
    await chmod(hook, 0o755);
    await server.api('POST', '/api/apps/shop/sync');
    const r = await revertDone(server);
    expect(r).toMatchObject({ status: 'failed', blamedSha: bad });
    expect(r.why).toContain('the push of the revert to main was refused');
    expect(r.why).toContain('main is protected: open a pull request');
    expect((await git(['rev-parse', 'main'], app.bare.dir)).stdout.trim()).toBe(bad);
    const skipped = (await server.api<GantryEvent[]>('GET', '/api/events?type=revert.skipped')).body;
    expect(skipped.at(-1)?.data).toMatchObject({ status: 'failed', blamed: bad });
  });
});
