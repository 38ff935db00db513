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
  openConsole,
  signIn,
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

describe.runIf(CHROMIUM)('the console shell in Chromium', () => {
  it('is served by the server: the page at any console path, hashed assets cached for a year, the API untouched', async () => {
    const page = await fetch(`${server.url}/apps/shop/environments/qa`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${server.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${server.url}/assets/missing-abc.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/status`)).status).toBe(401);
    expect(
      (await fetch(`${server.url}/api/nope`, { headers: { authorization: `Bearer ${server.token}` } }))
        .status,
    ).toBe(404);
  });

  it('signs in with a token, refuses a wrong one with the reason, and signing out ends the session on the server', async () => {
    const c = await openConsole(browser, server.url);
    const { page } = c;
    await expectAccessible(page, 'the sign-in page');
    await page.getByLabel('API token').fill('gnt_not-a-token');
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('unknown token');
    await signIn(page, server.token);
    const cookies = await c.context.cookies();
    const session = cookies.find((k) => k.name === 'gantry_session');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Strict');
    // The page never sees the cookie.
    expect(await page.evaluate<string>('document.cookie')).not.toContain('gantry_session');
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByLabel('API token').waitFor();
    // The old cookie is dead on the server, not only forgotten by the browser.
    const replay = await fetch(`${server.url}/api/status`, {
      headers: { cookie: `gantry_session=${session?.value}` },
    });
    expect(replay.status).toBe(401);
    await c.close();
  });

  it('shows the board, updates it from the event stream without a reload, and passes axe in light and dark at 375 px', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const c = await openConsole(browser, server.url, {
        colorScheme,
        viewport: { width: 375, height: 800 },
      });
      const { page } = c;
      await signIn(page, server.token);
      const qa = page.getByTestId('cell-shop-qa');
      await expect(qa.textContent()).resolves.toContain(v1.slice(0, 8));
      await expectAccessible(page, `the board (${colorScheme}, 375 px)`);
      await expectNoSidewaysScroll(page, `the board (${colorScheme})`);
      const reason = `maintenance ${colorScheme}`;
      const lock = await server.api('POST', '/api/apps/shop/environments/qa/lock', { reason });
      expect(lock.status).toBeLessThan(300);
      await qa.getByText(/locked by/).waitFor();
      await server.api('DELETE', '/api/apps/shop/environments/qa/lock');
      await qa.getByText(/locked by/).waitFor({ state: 'detached' });
      await c.close();
    }
  });

  it('signs in from a link carrying the token in the fragment (as `gantry demo` prints), then drops it from the address', async () => {
    const c = await openConsole(browser, `${server.url}/#token=${server.token}`);
    await c.page.getByRole('heading', { name: 'Board', level: 1 }).waitFor();
    expect(new URL(c.page.url()).hash).toBe('');
    // The entry with the token was replaced, not pushed: going back leaves the console.
    await c.page.goBack();
    expect(c.page.url()).not.toContain('token=');
    await c.close();
  });

  it('takes a metrics-only token to the metrics: no other page in the menu, no event stream, nothing wider than 375 px', async () => {
    const t = await server.api<{ token: string }>('POST', '/api/tokens', {
      name: 'dashboard',
      role: 'metrics',
    });
    const c = await openConsole(browser, server.url, { viewport: { width: 375, height: 800 } });
    await signIn(c.page, t.body.token);
    await c.page.waitForURL(/\/metrics$/);
    const menu = await c.page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    expect(menu).toEqual(['Metrics']);
    expect(
      await c.page
        .getByRole('status')
        .filter({ hasText: /Live|Reconnecting|Connecting/ })
        .count(),
    ).toBe(0);
    await expectNoSidewaysScroll(c.page, 'the metrics page of a metrics-only session');
    // The board is not theirs: going there lands on the metrics again.
    await c.page.goto(`${server.url}/`);
    await c.page.waitForURL(/\/metrics$/);
    await c.close();
  });

  it('sends the CSRF token on mutations and the server refuses a cookie without it', async () => {
    const c = await openConsole(browser, server.url);
    await signIn(c.page, server.token);
    const cookie = (await c.context.cookies()).find((k) => k.name === 'gantry_session');
    const headers = { cookie: `gantry_session=${cookie?.value}`, 'content-type': 'application/json' };
    const forged = await fetch(`${server.url}/api/apps/shop/environments/qa/lock`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ reason: 'forged' }),
    });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('x-csrf-token');
    const fromPage = await c.page.evaluate(async () => {
      const s = (await (await fetch('/api/session')).json()) as { csrfToken: string };
      const res = await fetch('/api/apps/shop/environments/qa/lock', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken },
        body: JSON.stringify({ reason: 'from the console' }),
      });
      return res.status;
    });
    expect(fromPage).toBeLessThan(300);
    const status = await server.api<{ env: string; lock: { reason: string; by: string } | null }[]>(
      'GET',
      '/api/apps/shop/environments',
    );
    expect(status.body.find((e) => e.env === 'qa')?.lock?.reason).toBe('from the console');
    await server.api('DELETE', '/api/apps/shop/environments/qa/lock');
    await c.close();
  });
});
