import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedHistory } from '../../../server/test/support/metrics-seed.js';
import type { TestServer } from '../../../server/test/support/test-server.js';
import {
  bandLabel,
  bucketName,
  count,
  customRange,
  daysPerWeek,
  duration,
  lastDays,
  percent,
  type Range,
} from '../../src/pages/metrics/metrics-format.js';
import {
  CHROMIUM,
  consoleServer,
  expectAccessible,
  expectNoSidewaysScroll,
  launchBrowser,
  openConsole,
  screenshot,
  signedInConsole,
} from './support/console-browser.js';
import { recentHistory } from './support/metrics-history.js';

interface Report {
  app: string;
  bucket: 'day' | 'week' | 'month';
  series: { start: string; deployments: number; rollbacks: number; leadTimeMedianMs: number | null }[];
  bands: {
    values: { deploymentDaysPerWeek: number | null };
    deploymentFrequency: string | null;
    leadTime: string | null;
    changeFailureRate: string | null;
    recoveryTime: string | null;
  };
  leadTime: { median: number | null };
  changeFailureRate: { rate: number | null };
  recoveryTime: { median: number | null };
}

let browser: Browser;
let server: TestServer;
let metricsToken: string;

beforeAll(async () => {
  if (!CHROMIUM) return;
  browser = await launchBrowser();
  server = await consoleServer();
  await seedHistory(server.gantry.database.db, recentHistory('web', 1));
  await seedHistory(server.gantry.database.db, recentHistory('api', 2));
  const token = await server.api<{ token: string }>('POST', '/api/tokens', {
    name: 'dashboard',
    role: 'metrics',
  });
  expect(token.status).toBe(201);
  metricsToken = token.body.token;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function apiReport(days: number | Range, app?: string): Promise<Report> {
  const range = typeof days === 'number' ? lastDays(days) : days;
  const q = new URLSearchParams({ ...(app ? { app } : {}), env: 'production', ...range });
  const res = await server.api<Report>('GET', `/api/metrics?${q}`);
  expect(res.status).toBe(200);
  return res.body;
}

const KEYS = ['deployment-frequency', 'lead-time', 'change-failure-rate', 'time-to-restore'] as const;

/** The four keys as the page should write them for this report: value and band. */
function expectedKeys(r: Report): Record<(typeof KEYS)[number], [string, string]> {
  return {
    'deployment-frequency': [
      daysPerWeek(r.bands.values.deploymentDaysPerWeek),
      bandLabel(r.bands.deploymentFrequency),
    ],
    'lead-time': [duration(r.leadTime.median), bandLabel(r.bands.leadTime)],
    'change-failure-rate': [percent(r.changeFailureRate.rate), bandLabel(r.bands.changeFailureRate)],
    'time-to-restore': [duration(r.recoveryTime.median), bandLabel(r.bands.recoveryTime)],
  };
}

async function shownKeys(page: Page): Promise<Record<string, [string, string]>> {
  const out: Record<string, [string, string]> = {};
  for (const k of KEYS) {
    const card = page.getByTestId(`key-${k}`);
    out[k] = [
      ((await card.getByTestId('key-value').textContent()) ?? '').trim(),
      ((await card.getByTestId('key-band').textContent()) ?? '').trim(),
    ];
  }
  return out;
}

/** Waits until the page shows the keys of `r` (after a refetch, the old numbers stay until the new ones come). */
async function expectKeysOf(page: Page, r: Report) {
  const want = expectedKeys(r);
  await expect.poll(() => shownKeys(page), { timeout: 15_000 }).toEqual(want);
}

const metricsCall = (page: Page, check: (q: URLSearchParams) => boolean) =>
  page.waitForRequest((req) => {
    const url = new URL(req.url());
    return url.pathname === '/api/metrics' && check(url.searchParams);
  });

describe.runIf(CHROMIUM)('the metrics page in Chromium', () => {
  it('shows the four keys and their bands as GET /api/metrics gives them, a table per chart, values on hover, and refetches on a new range or app', async () => {
    const c = await signedInConsole(browser, server.url, server.token, '/metrics?range=30');
    const { page } = c;
    await page.getByRole('heading', { name: 'The four keys' }).waitFor();
    const all30 = await apiReport(30);
    expect(all30.series.length).toBe(30);
    await expectKeysOf(page, all30);
    // Not a page of dashes: the seeded history has numbers for every key.
    expect(Object.values(expectedKeys(all30)).every(([v]) => v !== '—')).toBe(true);

    // The table view of a chart lists what the API gives, bucket by bucket.
    const chart = page.getByTestId('chart-deployment-frequency');
    await chart.getByRole('button', { name: 'Show table' }).click();
    const table = chart.locator('.table-wrap table');
    await expect(table.locator('caption').textContent()).resolves.toContain('Deployment frequency');
    const rows = await table
      .locator('tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll('th, td')].map((cell) => cell.textContent?.trim())),
      );
    expect(rows.map((r) => r.slice(0, 3))).toEqual(
      all30.series.map((s) => [bucketName(s.start, all30.bucket), count(s.deployments), count(s.rollbacks)]),
    );
    await expectAccessible(page, 'the metrics page with a table open');

    // Hovering a chart writes the values under the pointer in its legend.
    const lead = page.getByTestId('chart-lead-time');
    const over = lead.locator('.u-over');
    const box = await over.boundingBox();
    expect(box).not.toBeNull();
    const values = all30.series.map((s) =>
      s.leadTimeMedianMs === null ? '—' : duration(s.leadTimeMedianMs),
    );
    let shown = '';
    for (const f of [0.5, 0.3, 0.7, 0.9]) {
      await page.mouse.move(box!.x + box!.width * f, box!.y + box!.height / 2);
      shown = (
        (await lead.locator('.u-legend .u-series').nth(1).locator('.u-value').textContent()) ?? ''
      ).trim();
      if (shown && shown !== '—' && shown !== '--') break;
    }
    expect(values).toContain(shown);
    expect(shown).not.toBe('—');
    const day = (
      (await lead.locator('.u-legend .u-series').first().locator('.u-value').textContent()) ?? ''
    ).trim();
    expect(all30.series.map((s) => bucketName(s.start, all30.bucket))).toContain(day);

    // A new range asks the API again, and the keys follow.
    const week = metricsCall(
      page,
      (q) => q.get('from') === lastDays(7).from && q.get('to') === lastDays(7).to,
    );
    await page.getByLabel('Range').selectOption('7');
    await week;
    await expectKeysOf(page, await apiReport(7));
    expect(new URL(page.url()).searchParams.get('range')).toBe('7');

    // So does an app.
    const forApi = metricsCall(page, (q) => q.get('app') === 'api');
    await page.getByLabel('App').selectOption('api');
    await forApi;
    const api7 = await apiReport(7, 'api');
    expect(api7.app).toBe('api');
    await expectKeysOf(page, api7);
    await expect(page.getByTestId('metrics-window').textContent()).resolves.toContain('api / production');

    // A custom window: two dates, both days included.
    const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
    const custom = customRange(daysAgo(20), daysAgo(1))!;
    await page.getByLabel('Range').selectOption('custom');
    await page.getByLabel('From').fill(daysAgo(20));
    await page.getByLabel('To (included)').fill(daysAgo(1));
    const customCall = metricsCall(page, (q) => q.get('from') === custom.from && q.get('to') === custom.to);
    await page.getByRole('button', { name: 'Apply' }).click();
    await customCall;
    await expectKeysOf(page, await apiReport(custom, 'api'));

    // The HTML report of the same view, on the session's cookie.
    const href = await page.getByRole('link', { name: 'HTML report of this view' }).getAttribute('href');
    expect(href).toContain('app=api');
    const html = await page.request.get(`${server.url}${href}`);
    expect(html.status()).toBe(200);
    expect(html.headers()['content-type']).toContain('text/html');
    expect(await html.text()).toContain('Delivery metrics — api / production');

    await expectAccessible(page, 'the metrics page');
    await screenshot(page, 'metrics-page');
    await c.close();
  });

  it('fits 375 px in dark, without sideways scroll, and passes axe there', async () => {
    const c = await signedInConsole(browser, server.url, server.token, '/metrics?range=90', {
      viewport: { width: 375, height: 800 },
      colorScheme: 'dark',
    });
    const { page } = c;
    await page.getByRole('heading', { name: 'The four keys' }).waitFor();
    await expectKeysOf(page, await apiReport(90));
    await page.getByTestId('chart-build-time').locator('canvas').first().waitFor();
    // In dark the page (and the charts, which read the same tokens) use the dark colours.
    const muted = await page.evaluate<string>(
      `getComputedStyle(document.documentElement).getPropertyValue('--muted').trim()`,
    );
    expect(muted).toBe('#9da7b3');
    const chart = page.getByTestId('chart-deployments-releases');
    await chart.getByRole('button', { name: 'Show table' }).click();
    await chart.locator('.table-wrap table').waitFor();
    await expectAccessible(page, 'the metrics page (dark, 375 px)');
    await expectNoSidewaysScroll(page, 'the metrics page (dark, 375 px)');
    await screenshot(page, 'metrics-page-dark-375');
    await c.close();
  });

  it('with a metrics token: sees the metrics page, and no incident actions', async () => {
    const c = await openConsole(browser, server.url);
    const { page } = c;
    // Signed in as a person would; this token has no board to land on, only metrics.
    await page.getByLabel('API token').fill(metricsToken);
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Metrics' }).click();
    await page.getByRole('heading', { name: 'The four keys' }).waitFor();
    await expectKeysOf(page, await apiReport(30));
    const forWeb = metricsCall(page, (q) => q.get('app') === 'web');
    await page.getByLabel('App').selectOption('web');
    await forWeb;
    await expectKeysOf(page, await apiReport(30, 'web'));
    await expectAccessible(page, 'the metrics page (metrics token)');

    // The server refuses the incidents to this token; the page says so and offers no action.
    expect((await page.request.get(`${server.url}/api/incidents`)).status()).toBe(403);
    // The menu offers only the metrics; the incidents page, opened by its address, says why it is empty.
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).toEqual([
      'Metrics',
    ]);
    await page.goto(`${server.url}/incidents`);
    await page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
    await page.getByText('reads delivery metrics only').waitFor();
    expect(await page.getByRole('button', { name: 'Open an incident' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /Resolve/ }).count()).toBe(0);
    await expectAccessible(page, 'the incidents page (metrics token)');
    await c.close();
  });
});
