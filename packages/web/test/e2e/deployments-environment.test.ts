import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployableApp, deployedTo, envPorts } from '../../../server/test/support/deploy-fixture.js';
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

let browser: Browser;
let server: TestServer;
let v1: string;

beforeAll(async () => {
  if (!CHROMIUM) return;
  browser = await launchBrowser();
  server = await consoleServer();
  const app = await createDeployableApp(server, await envPorts());
  v1 = app.v1;
  await deployedTo(server, 'qa', v1);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await cleanupAll();
});

type EnvState = { env: string; lock: { reason: string | null; by: string } | null };
const lockOf = async (env: string) =>
  (await server.api<EnvState[]>('GET', '/api/apps/shop/environments')).body.find((e) => e.env === env)?.lock;

describe.runIf(CHROMIUM)('the environment page', () => {
  it('shows the history, locks with a reason and unlocks, and the configuration difference', async () => {
    const c = await signedInConsole(browser, server.url, server.token, '/apps/shop/environments/qa');
    const { page } = c;
    await page.getByRole('heading', { level: 1, name: /shop qa/ }).waitFor();
    const history = page.getByTestId('history');
    await history.getByText(v1.slice(0, 8)).waitFor();
    expect(await history.textContent()).toContain('auto');

    await page.getByLabel(/^Reason/).fill('database migration');
    await page.getByRole('button', { name: 'Lock qa' }).click();
    await page
      .getByTestId('lock-state')
      .getByText(/database migration/)
      .waitFor();
    expect(await lockOf('qa')).toMatchObject({ reason: 'database migration' });
    await expectAccessible(page, 'the environment page (locked)');
    await screenshot(page, 'deployments-environment');
    await page.getByRole('button', { name: 'Unlock qa' }).click();
    await page.getByRole('button', { name: 'Lock qa' }).waitFor();
    expect(await lockOf('qa')).toBeNull();

    // qa against staging: their GREETING differs, and more (auto_deploy, promote_from, port).
    await page.getByLabel('Compare qa with').selectOption('staging');
    const diff = page.getByTestId('config-diff');
    await diff.waitFor();
    const row = diff.getByRole('row', { name: /config\.GREETING/ });
    expect(await row.textContent()).toContain('hello-qa');
    expect(await row.textContent()).toContain('hello-staging');
    expect(await diff.textContent()).toContain('promote_from');
    expect(await diff.textContent()).not.toContain('run.command');
    await c.close();
  });

  it('at 375 px in dark mode, and the deployment page of the first deployment', async () => {
    const c = await signedInConsole(browser, server.url, server.token, '/apps/shop/environments/qa', {
      viewport: { width: 375, height: 800 },
      colorScheme: 'dark',
    });
    const { page } = c;
    await page.getByTestId('history').getByText(v1.slice(0, 8)).waitFor();
    await expectAccessible(page, 'the environment page (dark, 375 px)');
    await expectNoSidewaysScroll(page, 'the environment page (dark, 375 px)');
    await page.getByTestId('history').getByRole('link').first().click();
    await page.getByRole('heading', { level: 1, name: /Deployment of/ }).waitFor();
    const phases = await page
      .getByTestId('phases')
      .locator('li')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-phase')));
    expect(phases).toEqual(expect.arrayContaining(['unpack', 'start', 'health']));
    expect(await page.getByTestId('deployment-facts').textContent()).toContain('auto');
    await expectAccessible(page, 'the deployment page (dark, 375 px)');
    await expectNoSidewaysScroll(page, 'the deployment page (dark, 375 px)');
    await c.close();
  });
});
