import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { ServerConfig } from '../../../../server/src/config/server-config.js';
import type { TestEngine } from '../../../../server/test/support/engines.js';
import { startTestServer, type TestServer } from '../../../../server/test/support/test-server.js';

/** Set by test/global-setup.ts when Chromium is installed; CI requires it (GANTRY_REQUIRE_CHROMIUM=1). */
export const CHROMIUM = process.env.TEST_CHROMIUM;

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface ConsoleOptions {
  /** 375 wide for the phone layout; default 1280×800. */
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
}

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** A fresh browser context on the console, not signed in. */
export async function openConsole(
  browser: Browser,
  url: string,
  opts: ConsoleOptions = {},
): Promise<ConsolePage> {
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    colorScheme: opts.colorScheme ?? 'light',
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  return {
    context,
    page,
    async close() {
      await context.close();
      expect(errors, 'uncaught errors in the page').toEqual([]);
    },
  };
}

/**
 * Signs in through the sign-in form, as a person would, and waits for the first page: the board, or
 * the metrics for a metrics-only token.
 */
export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in with token' }).click();
  await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor();
  await page.getByRole('heading', { level: 1 }).first().waitFor();
}

/** Signs in with a login and password through the sign-in form, and waits for the first page. */
export async function signInWithPassword(page: Page, login: string, password: string): Promise<void> {
  await page.getByLabel('Login', { exact: true }).fill(login);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor();
  await page.getByRole('heading', { level: 1 }).first().waitFor();
}

/** A console signed in with `token`, open at `path`. */
export async function signedInConsole(
  browser: Browser,
  baseUrl: string,
  token: string,
  path = '/',
  opts: ConsoleOptions = {},
): Promise<ConsolePage> {
  const c = await openConsole(browser, baseUrl, opts);
  await signIn(c.page, token);
  if (path !== '/') await c.page.goto(`${baseUrl}${path}`);
  return c;
}

/** axe-core on the page as it is now: no serious or critical violation. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(bad, `accessibility of ${what}`).toEqual([]);
}

/** Nothing wider than the viewport: the page works at 375 px without sideways scrolling. */
export async function expectNoSidewaysScroll(page: Page, what: string): Promise<void> {
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
  expect(overflow, `${what} scrolls sideways by ${overflow}px`).toBeLessThanOrEqual(0);
}

/**
 * With GANTRY_SCREENSHOTS_DIR set (docs/screenshots to refresh the README's pictures), saves a
 * screenshot of the page; otherwise nothing, so a test run leaves the checkout as it was.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.GANTRY_SCREENSHOTS_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/**
 * A real Gantry server for console tests, serving the console from GANTRY_WEB_DIR when set (a build
 * made with `node scripts/build-web.mjs --out <dir>`), else packages/web/dist.
 */
export function consoleServer(
  engine: TestEngine = { name: 'sqlite' },
  overrides: Partial<ServerConfig> = {},
): Promise<TestServer> {
  return startTestServer(engine, {
    ...(process.env.GANTRY_WEB_DIR ? { webDir: resolve(process.env.GANTRY_WEB_DIR) } : {}),
    ...overrides,
  });
}
