import type { Browser, Page } from 'playwright-core';
import type { Unleash } from 'unleash-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll } from '../../../server/test/support/git-fixtures.js';
import type { TestServer } from '../../../server/test/support/test-server.js';
import {
  clientToken,
  eventually,
  startSdk,
} from '../../../server/test/toggles/client-api/client-api-fixture.js';
import {
  CHROMIUM,
  consoleServer,
  expectAccessible,
  expectNoSidewaysScroll,
  launchBrowser,
  screenshot,
  signedInConsole,
} from './support/console-browser.js';
import { createToggles, toggleApp } from './support/toggle-app.js';

let browser: Browser;
let server: TestServer;
let head: string;
let sdk: Unleash;

beforeAll(async () => {
  if (!CHROMIUM) return;
  browser = await launchBrowser();
  server = await consoleServer();
  ({ head } = await toggleApp(server));
  await createToggles(server, 'new-checkout', 'dark-mode', 'gift-cards');
  sdk = await startSdk(server, await clientToken(server, 'shop', 'production'), {
    appName: 'storefront',
    refreshInterval: 200,
  });
}, 120_000);

afterAll(async () => {
  sdk?.destroy();
  await browser?.close();
  await server?.close();
  await cleanupAll();
});

async function addChange(page: Page, toggle: string, env: string, turn: 'on' | 'off', rollout?: string) {
  const form = page.getByRole('form', { name: 'Add a change' });
  await form.getByLabel('Toggle').selectOption(toggle);
  await form.getByLabel('Environment').selectOption(env);
  await form.getByLabel('Turn it').selectOption(turn);
  if (rollout !== undefined) {
    await form.getByLabel('Who gets it').selectOption('rollout');
    await form.getByLabel('Share of users %').fill(rollout);
  }
  await form.getByRole('button', { name: 'Add change' }).click();
  await page.getByTestId(`change-${toggle}-${env}`).waitFor();
}

/** No commit SHA, whole or short, anywhere on the page: product owners never need one. */
async function expectNoSha(page: Page, what: string) {
  const text = (await page.locator('body').textContent()) ?? '';
  expect(head.length, 'the app has a head commit').toBe(40);
  expect(text, `${what} shows a SHA`).not.toContain(head.slice(0, 7));
  expect(text, `${what} shows a SHA`).not.toMatch(/\b[0-9a-f]{40}\b/);
}

describe.runIf(CHROMIUM)('the product owner releases in the console; the real unleash-client follows', () => {
  it('composes a release of two toggle changes, schedules it, sees it applied live, then reverts it with a confirmation', async () => {
    const c = await signedInConsole(browser, server.url, server.token, '/releases');
    const { page } = c;
    await page.getByRole('heading', { name: 'Releases', level: 1 }).waitFor();
    await page.getByText('No release yet').waitFor();
    await expectAccessible(page, 'the releases list (empty)');
    await page.getByRole('link', { name: 'New release' }).click();

    await page.getByRole('heading', { name: 'New release' }).waitFor();
    await page.getByLabel('Name').fill('spring-launch');
    await page
      .getByLabel('Notes for stakeholders')
      .fill('The new checkout for everyone.\nDark mode for all. <b>not bold</b>');
    await expectAccessible(page, 'a new release');
    await page.getByRole('button', { name: 'Create release' }).click();

    await page.getByRole('heading', { name: /spring-launch/, level: 1 }).waitFor();
    // Notes are plain text with their line breaks, never HTML.
    const notes = page.locator('.release-notes');
    // biome-ignore lint/performance/useDomNodeTextContent: innerText is what is rendered: line breaks shown
    await expect(notes.innerText()).resolves.toBe(
      'The new checkout for everyone.\nDark mode for all. <b>not bold</b>',
    );
    await expect(notes.locator('b').count()).resolves.toBe(0);

    await addChange(page, 'new-checkout', 'production', 'on');
    await addChange(page, 'dark-mode', 'production', 'on', '100');
    await expect(page.getByTestId('change-dark-mode-production').textContent()).resolves.toContain(
      'turn on · roll out to 100% of users',
    );
    // A share out of range: the server's message beside the field.
    const form = page.getByRole('form', { name: 'Add a change' });
    await form.getByLabel('Toggle').selectOption('gift-cards');
    await form.getByLabel('Who gets it').selectOption('rollout');
    await form.getByLabel('Share of users %').fill('150');
    await form.getByRole('button', { name: 'Add change' }).click();
    await page.locator('#change-rollout-error').waitFor();
    await expect(page.locator('#change-rollout-error').textContent()).resolves.toMatch(/100/);
    await expect(page.getByTestId('change-gift-cards-production').count()).resolves.toBe(0);
    await expectAccessible(page, 'a draft release');

    // Schedule a few seconds ahead, in the browser's own time zone.
    const at = await page.evaluate(() => {
      const d = new Date(Date.now() + 4_000);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    });
    await page.getByLabel('Schedule for').fill(at);
    await page.getByRole('button', { name: 'Schedule', exact: true }).click();
    const status = page.getByTestId('release-status');
    await status.getByText('Scheduled:').waitFor();
    const scheduled = await server.api<{ status: string; scheduledAt: string }>(
      'GET',
      '/api/releases/spring-launch',
    );
    expect(
      Math.abs(
        Date.parse(scheduled.body.scheduledAt) -
          Date.parse(await page.evaluate((v) => new Date(v).toISOString(), at)),
      ),
    ).toBe(0);
    expect(sdk.isEnabled('new-checkout')).toBe(false);

    // The scheduler applies it; the page follows without a reload.
    await status.getByText('Applied:').waitFor({ timeout: 30_000 });
    await eventually(
      () => sdk.isEnabled('new-checkout') && sdk.isEnabled('dark-mode', { userId: '17' }),
      'the SDK to see the release',
      10_000,
    );
    await expectNoSha(page, 'the applied release');
    await expectAccessible(page, 'an applied release');
    await screenshot(page, 'releases-release');

    // Revert, after a confirmation that lists what goes back.
    await page.getByRole('button', { name: 'Revert…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revert this release?' });
    const back = dialog.getByRole('list', { name: 'What will be put back' });
    await back.getByText('new-checkout in production (shop): on → off').waitFor();
    await expect(back.textContent()).resolves.toContain(
      'dark-mode in production (shop): on → off · Gradual rollout 100% → Everyone',
    );
    await expectAccessible(page, 'the revert confirmation');
    await dialog.getByRole('button', { name: 'Revert', exact: true }).click();
    await status.getByText('Reverted:').waitFor();
    await eventually(
      () => !sdk.isEnabled('new-checkout') && !sdk.isEnabled('dark-mode', { userId: '17' }),
      'the SDK to see the revert',
      10_000,
    );

    await page.getByRole('link', { name: 'Releases' }).first().click();
    const row = page.getByTestId('release-spring-launch');
    await row.getByText('reverted', { exact: true }).waitFor();
    await expectNoSha(page, 'the releases list');
    await expectAccessible(page, 'the releases list');
    await screenshot(page, 'releases-list');
    await c.close();
  });

  it('applies a draft now after listing what will change, and unschedules a scheduled one', async () => {
    for (const name of ['gift-cards-now', 'later']) {
      expect((await server.api('POST', '/api/releases', { name, notes: '' })).status).toBe(201);
      const res = await server.api('POST', `/api/releases/${name}/changes`, {
        app: 'shop',
        toggle: 'gift-cards',
        env: 'production',
        change: { enabled: true },
      });
      expect(res.status).toBe(200);
    }
    const c = await signedInConsole(browser, server.url, server.token, '/releases/later');
    const { page } = c;
    const status = page.getByTestId('release-status');
    await status.getByText('Draft:').waitFor();
    await page.getByRole('button', { name: 'Schedule', exact: true }).click();
    await status.getByText('Scheduled:').waitFor();
    await page.getByRole('button', { name: 'Unschedule' }).click();
    await status.getByText('Draft:').waitFor();
    expect((await server.api<{ status: string }>('GET', '/api/releases/later')).body.status).toBe('draft');

    await page.goto(`${server.url}/releases/gift-cards-now`);
    await page.getByRole('button', { name: 'Apply now…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Apply this release now?' });
    await dialog
      .getByRole('list', { name: 'What will change' })
      .getByText('gift-cards in production (shop): off → on')
      .waitFor();
    await dialog.getByRole('button', { name: 'Keep it as it is' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(sdk.isEnabled('gift-cards')).toBe(false);
    await page.getByRole('button', { name: 'Apply now…' }).click();
    await dialog.getByRole('button', { name: 'Apply now' }).click();
    await status.getByText('Applied:').waitFor();
    await eventually(() => sdk.isEnabled('gift-cards'), 'the SDK to see gift-cards on', 10_000);

    // The other release now changes nothing new; it can still be cancelled, after a confirmation.
    await page.goto(`${server.url}/releases/later`);
    await page.getByRole('button', { name: 'Cancel release…' }).click();
    await page
      .getByRole('dialog', { name: 'Cancel this release?' })
      .getByRole('button', { name: 'Cancel release' })
      .click();
    await status.getByText('Cancelled:').waitFor();
    await c.close();
  });

  it('the release page at 375 px in dark mode: accessible, no sideways scrolling', async () => {
    const c = await signedInConsole(browser, server.url, server.token, '/releases/spring-launch', {
      viewport: { width: 375, height: 800 },
      colorScheme: 'dark',
    });
    await c.page.getByTestId('release-status').getByText('Reverted:').waitFor();
    await expectAccessible(c.page, 'a release (dark, 375 px)');
    await expectNoSidewaysScroll(c.page, 'a release (dark, 375 px)');
    await c.page.goto(`${server.url}/releases`);
    await c.page.getByTestId('release-spring-launch').waitFor();
    await expectNoSidewaysScroll(c.page, 'the releases list (dark, 375 px)');
    await c.close();
  });
});
