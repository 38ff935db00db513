import { execFileSync } from 'node:child_process';
import type { Deployment } from '@gantry/contracts';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDeployableApp,
  deployedTo,
  deploymentDone,
  envPorts,
  serving,
} from '../../../server/test/support/deploy-fixture.js';
import { cleanupAll } from '../../../server/test/support/git-fixtures.js';
import { type TestServer, waitFor } from '../../../server/test/support/test-server.js';
import {
  CHROMIUM,
  consoleServer,
  expectAccessible,
  expectNoSidewaysScroll,
  launchBrowser,
  screenshot,
  signedInConsole,
} from './support/console-browser.js';

let browser: Browser;
let server: TestServer;
let app: Awaited<ReturnType<typeof createDeployableApp>>;
let ports: Awaited<ReturnType<typeof envPorts>>;
let v2: string;
let v3: string;

const short = (sha: string) => sha.slice(0, 8);
/** The deploy tags of an environment that point at a SHA, in the app's own (bare) repository. */
const tagsAt = (env: string, sha: string) =>
  execFileSync('git', ['-C', app.bare.dir, 'tag', '--list', `deploy/${env}/*`, '--points-at', sha], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);

async function digestOf(sha: string): Promise<string> {
  const { body } = await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa&limit=50');
  const d = body.find((x) => x.sha === sha && x.status === 'succeeded');
  if (!d?.digest) throw new Error(`no qa deployment of ${sha} with a digest`);
  return d.digest;
}

/** Opens an environment cell's dialog and returns it. */
async function openDialog(page: Page, env: string, button: 'Promote' | 'Roll back') {
  const name = button === 'Promote' ? new RegExp(`^Promote shop ${env}`) : `Roll back shop ${env}`;
  await page.getByRole('button', { name }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  return dialog;
}

beforeAll(async () => {
  if (!CHROMIUM) return;
  browser = await launchBrowser();
  server = await consoleServer();
  ports = await envPorts();
  app = await createDeployableApp(server, ports);
  await deployedTo(server, 'qa', app.v1);
  // staging and production run v1; then two commits reach QA only.
  for (const env of ['staging', 'production']) {
    const r = await server.api<Deployment>('POST', '/api/apps/shop/deployments', {
      env,
      ref: app.v1,
      confirm: true,
    });
    expect((await deploymentDone(server, r.body.id)).status).toBe('succeeded');
  }
  v2 = await app.pushFiles({ VERSION: 'v2' }, 'Say v2');
  v3 = await app.pushFiles({ VERSION: 'v3' }, 'Say v3');
  await server.api('POST', '/api/apps/shop/sync');
  await deployedTo(server, 'qa', v3, 120_000);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await cleanupAll();
});

describe.runIf(CHROMIUM)('the board: promote and roll back through the dialogs', () => {
  it('promotes qa → staging → production with the exact commits and digest, tags each, and rolls production back to its warm standby', async () => {
    const c = await signedInConsole(browser, server.url, server.token);
    const { page } = c;
    const staging = page.getByTestId('cell-shop-staging');
    await staging.getByText('2 commits waiting in qa').waitFor();
    // Promotion order on the board: qa, staging, production.
    const cells = await page
      .locator('[data-testid^="cell-shop-"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
    expect(cells).toEqual(['cell-shop-qa', 'cell-shop-staging', 'cell-shop-production']);
    await expectAccessible(page, 'the board with promote buttons');
    await screenshot(page, 'board-board');

    const digest = await digestOf(v3);
    for (const [env, from] of [
      ['staging', 'qa'],
      ['production', 'staging'],
    ] as const) {
      const dialog = await openDialog(page, env, 'Promote');
      const commits = dialog.getByTestId('promote-commits').getByRole('listitem');
      await commits.first().waitFor();
      const lines = await commits.allTextContents();
      expect(lines).toHaveLength(2);
      expect(lines[0]).toContain(short(v3));
      expect(lines[0]).toContain('Say v3');
      expect(lines[1]).toContain(short(v2));
      expect(lines[1]).toContain('Say v2');
      expect(await dialog.getByTestId('promote-digest').textContent()).toContain(digest);
      expect(await dialog.textContent()).toContain(`what ${from} runs`);
      await expectAccessible(page, `the promote dialog (${env})`);
      const submit = dialog.getByRole('button', { name: `Promote to ${env}` });
      if (env === 'production') {
        // Protected: nothing goes out until a person confirms.
        expect(await submit.isDisabled()).toBe(true);
        await dialog.getByLabel(/production is protected/).check();
      }
      await submit.click();
      await dialog.waitFor({ state: 'hidden' });
      await page.getByTestId(`cell-shop-${env}`).getByTestId('running').getByText(short(v3)).waitFor({
        timeout: 60_000,
      });
      await deployedTo(server, env, v3);
      expect(tagsAt(env, v3)).toHaveLength(1);
    }
    expect(await serving(ports.production)).toBe('v3');
    await staging.getByText('up to date with qa').waitFor();

    // Roll production back: v1, the release it ran before, is the warm standby.
    const production = page.getByTestId('cell-shop-production');
    await production.getByTestId('standby').getByText(short(app.v1)).waitFor();
    const dialog = await openDialog(page, 'production', 'Roll back');
    const v1Choice = dialog.getByTestId(`rollback-choice-${short(app.v1)}`);
    await v1Choice.waitFor();
    expect(await v1Choice.textContent()).toContain('instant');
    expect(await v1Choice.getByRole('radio').isChecked()).toBe(true);
    await expectAccessible(page, 'the rollback dialog');
    await dialog.getByLabel(/production is protected/).check();
    await dialog.getByRole('button', { name: `Roll back to ${short(app.v1)}` }).click();
    await dialog.waitFor({ state: 'hidden' });
    await production.getByTestId('running').getByText(short(app.v1)).waitFor({ timeout: 60_000 });
    const rb = await waitFor(async () => {
      const { body } = await server.api<Deployment[]>(
        'GET',
        '/api/deployments?app=shop&env=production&limit=5',
      );
      return body.find((d) => d.trigger === 'rollback' && d.status === 'succeeded');
    }, 'the rollback');
    expect(rb.sha).toBe(app.v1);
    expect(rb.kind).toBe('switch');
    expect(await serving(ports.production)).toBe('v1');
    // The rollback holds v3 back; the board says so.
    await production.getByText(`held: ${short(v3)}`).waitFor();

    // The deployment page of the rollback, from the board's notice.
    await page.getByRole('status').getByRole('link', { name: 'Follow it' }).click();
    await page.getByRole('heading', { level: 1, name: /Rollback of/ }).waitFor();
    const phases = page.getByTestId('phases').locator('li');
    await phases.first().waitFor();
    const names = await phases.evaluateAll((els) => els.map((e) => e.getAttribute('data-phase')));
    expect(names).toContain('switch');
    expect(await page.getByTestId('total').textContent()).toMatch(/(within|over) the 1 min rollback SLO/);
    expect(await page.getByRole('list', { name: 'Deployment log' }).textContent()).toContain(
      'deployment.succeeded',
    );
    await expectAccessible(page, 'the deployment page');
    await screenshot(page, 'deployments-deployment');
    await c.close();
  });

  it('says in the dialog that a locked environment queues the promotion, and the preview route refuses what cannot be promoted', async () => {
    const c = await signedInConsole(browser, server.url, server.token);
    const { page } = c;
    // production runs v1 again (rolled back) and staging runs v3: production can be promoted, but is locked.
    await page.getByTestId('cell-shop-staging').getByText('up to date with qa').waitFor();
    await server.api('POST', '/api/apps/shop/environments/production/lock', { reason: 'release freeze' });
    await page
      .getByTestId('cell-shop-production')
      .getByText(/locked by/)
      .waitFor();
    const dialog = await openDialog(page, 'production', 'Promote');
    await dialog.getByRole('note').filter({ hasText: 'release freeze' }).waitFor();
    expect(await dialog.getByTestId('promote-commits').getByRole('listitem').count()).toBe(2);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await server.api('DELETE', '/api/apps/shop/environments/production/lock');
    const res = await page.evaluate(async () => {
      const r = await fetch('/api/apps/shop/environments/qa/promotion');
      return { status: r.status, body: (await r.json()) as { message?: string } };
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('no promote_from');
    await c.close();
  });

  it('the board at 375 px in dark mode, and a metrics-only session lands on the metrics, with no Promote or Rollback', async () => {
    const dark = await signedInConsole(browser, server.url, server.token, '/', {
      viewport: { width: 375, height: 800 },
      colorScheme: 'dark',
    });
    await dark.page.getByTestId('cell-shop-production').getByText(short(app.v1)).first().waitFor();
    await expectAccessible(dark.page, 'the board (dark, 375 px)');
    await expectNoSidewaysScroll(dark.page, 'the board (dark, 375 px)');
    await screenshot(dark.page, 'board-board-dark-375');
    await dark.close();

    const token = await server.api<{ token: string }>('POST', '/api/tokens', {
      name: 'grafana',
      role: 'metrics',
    });
    expect(token.status).toBe(201);
    const m = await signedInConsole(browser, server.url, token.body.token);
    // The board is not a metrics session's: it lands on the metrics, with no way to promote or roll back.
    await m.page.waitForURL(/\/metrics$/);
    await m.page.getByRole('heading', { name: 'The four keys' }).waitFor();
    expect(await m.page.getByRole('button', { name: /Promote|Roll back/ }).count()).toBe(0);
    await expectAccessible(m.page, 'the first page of a metrics session');
    await m.close();
  });
});
