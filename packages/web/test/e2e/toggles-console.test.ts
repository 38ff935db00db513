import type { Browser } from 'playwright-core';
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
let sdk: Unleash | undefined;

beforeAll(async () => {
  if (!CHROMIUM) return;
  browser = await launchBrowser();
  server = await consoleServer();
  await toggleApp(server);
  await createToggles(server, 'search-v2');
}, 120_000);

afterAll(async () => {
  sdk?.destroy();
  await browser?.close();
  await server?.close();
  await cleanupAll();
});

describe.runIf(CHROMIUM)('toggles in the console, read by the real unleash-client', () => {
  it('creates a toggle, switches it on from the list (the SDK follows), and lists the connected SDK', async () => {
    sdk = await startSdk(server, await clientToken(server, 'shop', 'production'), {
      appName: 'checkout-web',
      refreshInterval: 200,
    });
    const c = await signedInConsole(browser, server.url, server.token, '/toggles');
    const { page } = c;
    await page.getByRole('link', { name: 'shop' }).click();
    await page.getByRole('heading', { name: 'Toggles of shop' }).waitFor();

    await page.getByText('Create a toggle').click();
    await page.getByLabel('Name').fill('checkout-v2');
    await page.getByLabel('Description').fill('The new checkout');
    await page.getByRole('button', { name: 'Create toggle' }).click();
    await page.getByRole('heading', { name: /checkout-v2/, level: 1 }).waitFor();
    await page.getByRole('link', { name: 'shop' }).click();

    // The list: one switch per environment, off until switched.
    const prod = page.getByRole('switch', { name: 'checkout-v2 in production' });
    await expect(prod.isChecked()).resolves.toBe(false);
    await expect(page.getByRole('switch', { name: 'checkout-v2 in staging' }).isChecked()).resolves.toBe(
      false,
    );
    await eventually(() => sdk!.isEnabled('checkout-v2') === false, 'the SDK to know checkout-v2');
    await prod.click();
    await eventually(() => prod.isChecked(), 'the switch to show the server’s state: on');
    await eventually(() => sdk!.isEnabled('checkout-v2'), 'the SDK to see checkout-v2 on', 10_000);
    const state = await server.api<{ environments: { env: string; enabled: boolean }[] }>(
      'GET',
      '/api/apps/shop/toggles/checkout-v2',
    );
    expect(state.body.environments.find((e) => e.env === 'production')?.enabled).toBe(true);
    expect(state.body.environments.find((e) => e.env === 'staging')?.enabled ?? false).toBe(false);

    // The SDK that registered and fetches is listed, up to date.
    const row = page.getByTestId('sdk-checkout-web');
    await row.waitFor({ timeout: 15_000 });
    await expect(row.textContent()).resolves.toContain('production');
    await row.getByText('up to date').waitFor({ timeout: 15_000 });

    await expectAccessible(page, 'the toggles of an app');
    await screenshot(page, 'toggles-list');
    await c.close();
  });

  it('edits strategies and variants, shows the server’s message beside the field, and keeps the history', async () => {
    const segment = await server.api<{ id: number }>('PUT', '/api/apps/shop/segments/beta-testers', {
      constraints: [{ contextName: 'userId', operator: 'IN', values: ['42', '7'] }],
    });
    expect(segment.status).toBe(200);
    const c = await signedInConsole(browser, server.url, server.token, '/apps/shop/toggles/search-v2');
    const { page } = c;
    await page.getByRole('heading', { name: /search-v2/, level: 1 }).waitFor();
    await page.getByRole('button', { name: /^production: off$/ }).click();
    await page.getByRole('heading', { name: 'Strategies in production' }).waitFor();
    await page.getByRole('switch', { name: 'search-v2 in production' }).click();
    await page.getByRole('button', { name: 'production: on' }).waitFor();

    await page.getByRole('button', { name: 'Add strategy' }).click();
    const rollout = page.getByLabel('Rollout %');
    await rollout.fill('150');
    await page.getByRole('button', { name: 'Save production' }).click();
    const error = page.locator('#env-production-s0-rollout-error');
    await error.waitFor();
    await expect(error.textContent()).resolves.toContain('rollout must be a whole number from 0 to 100');
    await expect(rollout.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(rollout.getAttribute('aria-describedby')).resolves.toContain(
      'env-production-s0-rollout-error',
    );
    await expectAccessible(page, 'a toggle with a validation error');

    // A constraint and a variant with a payload, then a valid rollout: saved, and the SDK reads it.
    await page.getByRole('button', { name: 'Add constraint' }).click();
    await page.getByLabel('Context field').fill('userId');
    await page.getByLabel('Values').fill('42, 7');
    await page.getByRole('checkbox', { name: 'beta-testers' }).check();
    await rollout.fill('100');
    await page.getByRole('button', { name: 'Add variant' }).click();
    await page.getByLabel('Name', { exact: true }).fill('blue');
    await page.getByLabel('Payload type').selectOption('json');
    await page.getByLabel('Payload', { exact: true }).fill('{"color":"#00f"}');
    await page.getByRole('button', { name: 'Save production' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved at' }).waitFor();
    await expect(error.count()).resolves.toBe(0);

    const saved = await server.api<{ environments: { env: string; strategies: unknown[] }[] }>(
      'GET',
      '/api/apps/shop/toggles/search-v2',
    );
    expect(saved.body.environments.find((e) => e.env === 'production')?.strategies).toEqual([
      {
        name: 'flexibleRollout',
        parameters: { rollout: '100', stickiness: 'default', groupId: 'search-v2' },
        constraints: [{ contextName: 'userId', operator: 'IN', values: ['42', '7'] }],
        segments: [segment.body.id],
      },
    ]);
    sdk ??= await startSdk(server, await clientToken(server, 'shop', 'production'), {
      appName: 'checkout-web',
    });
    // Wait for the saved definition itself (only it has the variant): an SDK that still holds the
    // earlier one (on for everyone) would let user 42 in too, and user 8 with them.
    await eventually(
      () => sdk!.getVariant('search-v2', { userId: '7' }).name === 'blue',
      'the SDK to read the saved strategy and variants',
      10_000,
    );
    expect(sdk.isEnabled('search-v2', { userId: '42' })).toBe(true);
    expect(sdk.isEnabled('search-v2', { userId: '8' })).toBe(false);
    expect(sdk.getVariant('search-v2', { userId: '7' })).toMatchObject({
      name: 'blue',
      payload: { type: 'json', value: '{"color":"#00f"}' },
    });

    // A variant weight the server refuses: its message beside that field.
    await page.getByLabel('Weight is').selectOption('fix');
    await page.getByLabel('Weight', { exact: true }).fill('500');
    await page.getByRole('button', { name: 'Save production' }).click();
    const variantError = page.locator('#env-production-variants-error');
    await variantError.waitFor();
    await expect(variantError.textContent()).resolves.toContain('they must add up to 1000');
    await page.getByRole('button', { name: 'Discard changes' }).click();
    await variantError.waitFor({ state: 'detached' });

    const history = page.getByRole('list', { name: /Changes to search-v2/ });
    await history.getByText(/turned on/).waitFor();
    await history.getByText(/strategies: none \(everyone\) → Gradual rollout 100%/).waitFor();
    await expect(history.locator('li').last().textContent()).resolves.toContain('created');
    await expectAccessible(page, 'a toggle');
    await screenshot(page, 'toggles-toggle');
    await c.close();
  });

  it('the toggles list at 375 px in dark mode: accessible, no sideways scrolling', async () => {
    const c = await signedInConsole(browser, server.url, server.token, '/apps/shop/toggles', {
      viewport: { width: 375, height: 800 },
      colorScheme: 'dark',
    });
    await c.page.getByRole('switch', { name: 'checkout-v2 in production' }).waitFor();
    await c.page.getByTestId('sdk-checkout-web').waitFor({ timeout: 15_000 });
    await expectAccessible(c.page, 'the toggles list (dark, 375 px)');
    await expectNoSidewaysScroll(c.page, 'the toggles list (dark, 375 px)');
    await c.page.goto(`${server.url}/apps/shop/toggles/search-v2`);
    await c.page.getByRole('heading', { name: 'Strategies in staging' }).waitFor();
    await expectAccessible(c.page, 'a toggle (dark, 375 px)');
    await expectNoSidewaysScroll(c.page, 'a toggle (dark, 375 px)');
    await c.page.goto(`${server.url}/toggles`);
    await c.page.getByRole('link', { name: 'shop' }).waitFor();
    await expectAccessible(c.page, 'the app picker of toggles');
    await c.close();
  });
});
