import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment, Revert } from '../../../contracts/src/index.js';
import {
  createRevertApp,
  deployedTo,
  revertDone,
  verification,
} from '../../../server/test/reverts/revert-fixture.js';
import { cleanupAll } from '../../../server/test/support/git-fixtures.js';
import type { TestServer } from '../../../server/test/support/test-server.js';
import {
  CHROMIUM,
  consoleServer,
  expectAccessible,
  expectNoSidewaysScroll,
  launchBrowser,
  screenshot,
  signedInConsole,
} from './support/console-browser.js';

/**
 * QA's check (the revert fixture's smoke.sh) prints what QA answers, so this VERSION puts terminal
 * colours and markup into the check's output: the page must show them as coloured text, never HTML.
 */
const BAD_VERSION = 'bad-2 \x1b[1;31mboom\x1b[0m <img src=x onerror="window.hit=1">';

let browser: Browser;
let server: TestServer;
let app: Awaited<ReturnType<typeof createRevertApp>>;

beforeAll(async () => {
  if (!CHROMIUM) return;
  browser = await launchBrowser();
  server = await consoleServer();
  // shop's QA runs v1, verified by its `smoke` check; revert: { on_check_failure: auto }.
  app = await createRevertApp(server);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await cleanupAll();
});

const short = (sha: string) => sha.slice(0, 8);

async function deploymentsOfQa(): Promise<Deployment[]> {
  return (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa&limit=100')).body;
}

describe.runIf(CHROMIUM)('checks and reverts in the console (Chromium)', () => {
  let revert: Revert;

  it('a commit that fails QA: the Reverts page follows the revert live, the deployment shows its failed check, runs and output, and the rollback', async () => {
    const c = await signedInConsole(browser, server.url, server.token, '/reverts');
    const { page } = c;
    await page.getByRole('heading', { name: 'Reverts', level: 1 }).waitFor();
    await page.getByTestId('no-reverts').waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reverts' }).waitFor();
    await expectAccessible(page, 'the Reverts page, empty');

    // The broken commit is pushed; the page is not reloaded: the event stream brings the revert.
    const [bad] = await app.pushCommits([{ files: { VERSION: BAD_VERSION }, message: 'a broken change' }]);
    const card = page.locator('article.revert');
    await card.first().waitFor({ timeout: 60_000 });
    await card
      .getByTestId('revert-status')
      .getByText(/^reverted:/)
      .waitFor({ timeout: 150_000 });
    revert = await revertDone(server);
    expect(revert).toMatchObject({
      status: 'reverted',
      sha: bad,
      blamedSha: bad,
      check: 'smoke',
      goodSha: app.v1,
    });

    // Everything the revert recorded, in words: app, env, failed release, check, blamed commit, the
    // revert commit, the why, and each step as a timeline, in order.
    const text = (await card.textContent()) ?? '';
    for (const s of [
      'shop qa',
      'check smoke failed on',
      short(bad!),
      short(app.v1),
      short(revert.revertSha!),
    ])
      expect(text).toContain(s);
    expect(await card.getByTestId('revert-blamed').textContent()).toContain(short(bad!));
    expect(await card.getByTestId('revert-commit').textContent()).toContain(short(revert.revertSha!));
    expect(await card.getByTestId('revert-why').textContent()).toBe(revert.why);
    const steps = card.locator('ol.revert-steps > li');
    expect(await steps.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-step')))).toEqual(
      revert.steps.map((s) => s.step),
    );
    expect(revert.steps.map((s) => s.step)).toEqual([
      'guard-deploy',
      'guard',
      'confirm',
      'blame',
      'reverted',
    ]);
    expect(await steps.first().textContent()).toContain('Environment guard');
    for (const [i, s] of revert.steps.entries()) expect(await steps.nth(i).textContent()).toContain(s.result);
    await expectAccessible(page, 'the Reverts page with a revert');
    await screenshot(page, 'reverts-list');

    // The failed release's deployment page, from the card.
    await card
      .getByRole('link', { name: short(bad!), exact: true })
      .first()
      .click();
    await page.waitForURL(`**/apps/shop/deployments/${revert.deploymentId}`);
    const checks = page.getByTestId('checks');
    await checks.getByText('check failed', { exact: true }).waitFor();
    const { body: answer } = await server.api<{ runs: { attempt: number; error: string | null }[] }>(
      'GET',
      `/api/deployments/${revert.deploymentId}/checks`,
    );
    expect(answer.runs).toHaveLength(2);
    const rollback = (await deploymentsOfQa()).find(
      (d) => d.trigger === 'auto-rollback' && d.previousSha === bad,
    )!;
    expect(rollback.sha).toBe(app.v1);
    await checks
      .getByTestId('check-failure')
      .getByText(`Check smoke failed; rolled back to ${short(app.v1)} (auto-rollback).`)
      .waitFor();
    const smoke = checks.locator('li.check[data-check="smoke"]');
    expect(await smoke.locator('h3').textContent()).toMatch(/smoke \(run, 1 retry\)\s*failed/);
    const runs = smoke.locator('ol.check-runs > li');
    expect(await runs.count()).toBe(2);
    for (const [i, r] of answer.runs.entries()) {
      const run = runs.nth(i);
      expect(await run.locator('.run-head').textContent()).toMatch(
        new RegExp(`attempt ${r.attempt} of 2\\s*failed\\s*[\\d.]+ (ms|s)`),
      );
      expect(await run.locator('.run-error').textContent()).toBe(r.error);
    }
    // The output, behind its disclosure: written only when opened, colours as spans, markup as text.
    expect(await smoke.locator('pre').count()).toBe(0);
    await runs.first().getByText('Output of smoke, attempt 1 of 2').click();
    const output = runs.first().locator('pre.check-log');
    await output.waitFor();
    const printed = (await output.textContent()) ?? '';
    expect(printed).toContain('qa answers: bad-2 boom <img src=x onerror="window.hit=1">');
    expect(printed).toContain('this release is broken');
    expect(printed).not.toContain('\x1b');
    expect(await output.locator('img').count()).toBe(0);
    expect(await output.locator('.ansi-red.ansi-bold').textContent()).toBe('boom');
    expect(await page.evaluate('window.hit')).toBeUndefined();
    // The header and facts say what ran, and the page links the revert.
    await page.getByRole('heading', { level: 1, name: /Deployment of .* to qa/ }).waitFor();
    const revertLink = checks.getByTestId('revert-link').getByRole('link', { name: /see the revert/ });
    expect(await revertLink.getAttribute('href')).toBe(`/reverts/${revert.id}`);
    await expectAccessible(page, 'the deployment page with a failed check and its output open');
    await screenshot(page, 'deployments-checks');

    // The automatic rollback's own page: a rollback, in words, that belongs to the revert.
    await page.goto(`${server.url}/apps/shop/deployments/${rollback.id}`);
    await page
      .getByRole('heading', { level: 1, name: new RegExp(`Rollback of ${short(app.v1)} to qa`) })
      .waitFor();
    expect(await page.getByTestId('trigger').textContent()).toBe(
      'rolled back after a failed check (auto-rollback)',
    );
    await page.getByTestId('checks').getByText('verified', { exact: true }).waitFor();
    expect(
      await page
        .getByTestId('revert-link')
        .getByRole('link', { name: /see the revert/ })
        .getAttribute('href'),
    ).toBe(`/reverts/${revert.id}`);

    // The revert's own page.
    await page
      .getByTestId('revert-link')
      .getByRole('link', { name: /see the revert/ })
      .click();
    await page
      .getByTestId(`revert-${revert.id}`)
      .getByTestId('revert-status')
      .getByText(/^reverted:/)
      .waitFor();
    await expectAccessible(page, "a revert's page");
    await c.close();
  });

  it("the board and the environment's history show the verification and Gantry's triggers in words", async () => {
    expect(revert, 'the first test made a revert').toBeDefined();
    // The revert flows through the pipeline like any commit: built, deployed to QA, verified.
    const revertDeployment = await deployedTo(server, 'qa', revert.revertSha!, 120_000);
    expect((await verification(server, revertDeployment.id)).verification).toBe('verified');

    const c = await signedInConsole(browser, server.url, server.token, '/');
    const { page } = c;
    const cell = page.getByTestId('cell-shop-qa');
    await cell.getByTestId('running').getByText(short(revert.revertSha!)).waitFor();
    await cell.getByTestId('running').getByText('verified', { exact: true }).waitFor();
    await expectAccessible(page, 'the board with a verified release');

    await page.goto(`${server.url}/apps/shop/environments/qa`);
    const history = page.getByTestId('history');
    await history.getByText(short(revert.revertSha!)).first().waitFor();
    const rows = await history.locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({
        trigger: tr.querySelector('[data-trigger]')?.getAttribute('data-trigger'),
        triggerText: tr.querySelector('[data-trigger]')?.textContent,
        verification: tr.querySelector('[data-verification]')?.textContent ?? null,
      })),
    );
    const byTrigger = (t: string) => rows.filter((r) => r.trigger === t);
    expect(byTrigger('auto-rollback').length).toBeGreaterThan(0);
    for (const r of byTrigger('auto-rollback'))
      expect(r.triggerText).toBe('rolled back after a failed check');
    // The confirm step deployed the blamed commit again to see it fail twice, then went back to v1.
    const bisects = byTrigger('bisect');
    expect(bisects.map((r) => r.triggerText)).toEqual(['bisect', 'bisect']);
    expect(bisects.map((r) => r.verification).sort()).toEqual(['check failed', 'verified']);
    // v1, the broken commit, and its revert.
    expect(byTrigger('auto').map((r) => r.verification)).toEqual(['verified', 'check failed', 'verified']);
    await expectAccessible(page, 'the environment history with checks and automatic rollbacks');
    await screenshot(page, 'deployments-environment-checks');
    await c.close();
  });

  it('at 375 px in dark mode: the deployment page and the Reverts page do not scroll sideways', async () => {
    expect(revert, 'the first test made a revert').toBeDefined();
    const c = await signedInConsole(
      browser,
      server.url,
      server.token,
      `/apps/shop/deployments/${revert.deploymentId}`,
      { viewport: { width: 375, height: 800 }, colorScheme: 'dark' },
    );
    const { page } = c;
    await page.getByTestId('check-failure').waitFor();
    await page.getByText('Output of smoke, attempt 2 of 2').click();
    await page.locator('pre.check-log').waitFor();
    await expectNoSidewaysScroll(page, 'the deployment page with checks (375 px)');
    await expectAccessible(page, 'the deployment page with checks (dark, 375 px)');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reverts' }).click();
    await page.locator('article.revert').first().waitFor();
    await expectNoSidewaysScroll(page, 'the Reverts page (375 px)');
    await expectAccessible(page, 'the Reverts page (dark, 375 px)');
    await screenshot(page, 'reverts-list-dark-375');
    await c.close();
  });
});
