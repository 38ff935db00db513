import { humanRate } from '@gantry/contracts';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BuildEvent,
  type MetricsReport,
  reportFromEvents,
} from '../../src/features/metrics/engine/index.js';
import { durationTickLabels } from '../../src/features/metrics/report-format.js';
import {
  durationTicks,
  escapeHtml,
  formatDuration,
  formatPercent,
  linearScale,
  niceTicks,
  renderReportHtml,
  trendText,
} from '../../src/features/metrics/report-html.js';
import { at, commit, deploy, incident, input } from './fixtures.js';

/** Set by test/global-setup.ts when Chromium is installed (CI requires it). */
const CHROMIUM = process.env.TEST_CHROMIUM;
const CHARTS = ['deployments', 'lead-time', 'change-failure-rate', 'recovery', 'build-time', 'rollback-time'];

const build = (id: string, day: number, minutes: number, extra: Partial<BuildEvent> = {}): BuildEvent => ({
  id,
  app: 'web',
  sha: 'x',
  status: 'succeeded',
  queuedAt: at(day, 9),
  startedAt: at(day, 9, 1),
  finishedAt: at(day, 9, 1 + minutes),
  ...extra,
});

/**
 * Four weeks from Monday 2024-01-01 (and three deployments in the four weeks before, for the trend):
 * an incident with a rollback in week 1, a failed then a slow rollback in week 2, no deployment in
 * week 3 (a release only), a fix-forward and an open incident in week 4, plus a deployment of a commit
 * never seen (a skipped record).
 */
const rich = input({
  commits: [
    commit(1, at(-21)),
    commit(2, at(-15)),
    commit(3, at(-8)),
    commit(4, at(0, 8)),
    commit(5, at(1, 6)),
    commit(6, at(2, 9)),
    commit(7, at(3, 10)),
    commit(8, at(7, 15)),
    commit(9, at(9, 8)),
    commit(10, at(10, 9)),
    commit(11, at(21, 10)),
    commit(12, at(23, 8)),
  ],
  deployments: [
    deploy('P1', 1, at(-20, 10)),
    deploy('P2', 2, at(-13, 10)),
    deploy('P3', 3, at(-6, 10)),
    deploy('D1', 4, at(0, 10)),
    deploy('D2', 5, at(1, 10)),
    deploy('D3', 6, at(2, 10)),
    deploy('R1', 5, at(2, 12, 0, 40), { trigger: 'rollback', requestedAt: at(2, 12), startedAt: at(2, 12) }),
    deploy('D4', 7, at(4, 10)),
    deploy('D5', 8, at(8, 10)),
    deploy('D6', 9, at(9, 10)),
    deploy('D7', 10, at(10, 10)),
    deploy('R2', 9, at(10, 11, 5), {
      trigger: 'rollback',
      status: 'failed',
      requestedAt: at(10, 11),
      startedAt: at(10, 11),
    }),
    deploy('R3', 9, at(10, 11, 12), {
      trigger: 'rollback',
      requestedAt: at(10, 11, 10),
      startedAt: at(10, 11, 10),
    }),
    deploy('DX', 99, at(12, 10)),
    deploy('D8', 11, at(22, 10)),
    deploy('D9', 12, at(23, 10), { remediates: 'D8' }),
  ],
  incidents: [
    incident('I1', at(2, 11), { deploymentId: 'D3', resolvedAt: at(2, 12, 30) }),
    incident('I2', at(10, 10, 30), { resolvedAt: at(10, 12) }),
    incident('I3', at(25, 10), { deploymentId: 'D9' }),
  ],
  builds: [
    build('b1', 0, 4),
    build('b2', 1, 6),
    build('b3', 2, 14),
    build('b4', 8, 3),
    build('b5', 9, 5),
    build('b6', 10, 25),
    build('b7', 15, 7),
    build('b8', 16, 8, { status: 'cancelled' }),
  ],
  releases: [
    { name: 'winter-sale', app: 'web', env: 'production', appliedAt: at(1, 9) },
    { name: 'spring-sale', app: 'web', env: 'production', appliedAt: at(15, 9) },
  ],
  toggleChanges: [
    {
      app: 'web',
      env: 'production',
      toggle: 'checkout',
      at: at(9, 8),
      enabledBefore: false,
      enabledAfter: true,
    },
    {
      app: 'web',
      env: 'production',
      toggle: 'search',
      at: at(22, 12),
      enabledBefore: false,
      enabledAfter: true,
    },
  ],
});

interface Layout {
  viewport: number;
  scrollWidth: number;
  /** Elements reaching past the viewport's left or right edge. */
  beyond: string[];
  charts: { chart: string; width: number; inner: number; clipped: string[] }[];
}

/**
 * Measures the page in the browser (plain JavaScript: the project's TypeScript has no DOM library):
 * what sticks out of the viewport, each chart's width against its card's content width, and the chart
 * text that sticks out of its SVG (it would be cut off).
 */
const LAYOUT = `(() => {
  const viewport = document.documentElement.clientWidth;
  const out = (r, box) => r.left < box.left - 0.5 || r.right > box.right + 0.5;
  const whole = { left: 0, right: viewport };
  return {
    viewport,
    scrollWidth: document.documentElement.scrollWidth,
    beyond: [...document.querySelectorAll('body *')]
      .filter((e) => out(e.getBoundingClientRect(), whole))
      .map((e) => e.tagName),
    charts: [...document.querySelectorAll('figure.chart > svg')].map((svg) => {
      const fig = svg.parentElement;
      const style = getComputedStyle(fig);
      const box = svg.getBoundingClientRect();
      return {
        chart: fig.getAttribute('data-chart'),
        width: box.width,
        inner: fig.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
        clipped: [...svg.querySelectorAll('text')]
          .filter((t) => getComputedStyle(t).display !== 'none')
          .filter((t) => out(t.getBoundingClientRect(), box))
          .map((t) => t.textContent),
      };
    }),
  };
})()`;

let browser: Browser;
let full: MetricsReport;
let empty: MetricsReport;
/** Builds of half a second, rollbacks of 0.4 s, against the default 10 min and 1 min SLOs. */
let subSecond: MetricsReport;

interface Rendered {
  page: Page;
  requests: string[];
  dialogs: string[];
}

/** The HTML in a fresh page with every request blocked (and recorded) and dialogs recorded. */
async function open(html: string, width = 1600): Promise<Rendered> {
  const page = await browser.newPage({ viewport: { width, height: 1200 } });
  const requests: string[] = [];
  const dialogs: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.route('**', (r) => r.abort());
  await page.setContent(html, { waitUntil: 'load' });
  return { page, requests, dialogs };
}

const count = (page: Page, selector: string) => page.locator(selector).count();

beforeAll(async () => {
  const scope = { app: 'web', from: at(0), to: at(28), bucket: 'week' as const };
  full = await reportFromEvents(rich, scope);
  empty = await reportFromEvents(rich, { ...scope, from: at(140), to: at(168) });
  const ms = (day: number, h: number, milliseconds: number) =>
    new Date(Date.parse(at(day, h)) + milliseconds).toISOString();
  const quick = input({
    commits: [commit(1, at(0)), commit(2, at(1)), commit(3, at(8))],
    deployments: [
      deploy('A', 1, at(0, 10)),
      deploy('B', 2, at(1, 10)),
      deploy('RB1', 1, ms(1, 11, 400), { trigger: 'rollback', requestedAt: at(1, 11), startedAt: at(1, 11) }),
      deploy('C', 3, at(8, 10)),
      deploy('RB2', 2, ms(8, 11, 350), { trigger: 'rollback', requestedAt: at(8, 11), startedAt: at(8, 11) }),
    ],
    builds: [300, 450, 800].map((d, i) =>
      build(`q${i}`, 7 * i, 0, { startedAt: at(7 * i, 9, 1), finishedAt: ms(7 * i, 9, 60_000 + d) }),
    ),
  });
  subSecond = await reportFromEvents(quick, scope);
  if (CHROMIUM)
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

describe('the fixture', () => {
  it('has what the charts need to show (so the browser checks below are not vacuous)', () => {
    const s = full.series;
    expect(s).toHaveLength(4);
    expect(s.filter((p) => p.deployments > 0).length).toBe(3);
    expect(s.some((p) => p.rollbacks > 0)).toBe(true);
    expect(full.rollbackTime.points.some((p) => p.durationMs === null)).toBe(true);
    expect(
      full.rollbackTime.points.some((p) => p.durationMs !== null && p.durationMs > full.rollbackTime.sloMs),
    ).toBe(true);
    expect(full.recoveryTime.recoveries.length).toBeGreaterThan(0);
    expect(full.recoveryTime.open.length).toBeGreaterThan(0);
    expect(full.skipped.unknownShas).toBeGreaterThan(0);
    expect(Object.values(full.trend).some((t) => t.direction === 'better')).toBe(true);
    expect(Object.values(full.trend).some((t) => t.direction === 'worse')).toBe(true);
  });
});

// Off only where Chromium is not installed; the run says so at its top, and CI requires it.
describe.runIf(CHROMIUM)('renderReportHtml in Chromium', () => {
  it('is self-contained: no request, no script, no external reference', async () => {
    const html = renderReportHtml([full, empty], { generatedAt: '2024-01-29T08:00:00Z' });
    expect(html).not.toMatch(/<script|\bsrc=|\bhref=|url\(|@import/i);
    const { page, requests, dialogs } = await open(html);
    expect(await count(page, 'section.report')).toBe(2);
    expect(await count(page, 'script, img, link, iframe, object, embed')).toBe(0);
    expect(requests).toEqual([]);
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it('draws every chart of a rich history, with marks that match the data', async () => {
    const { page } = await open(renderReportHtml(full, { generatedAt: '2024-01-29T08:00:00Z' }));
    for (const id of CHARTS) {
      const fig = page.locator(`figure[data-chart="${id}"]`);
      expect(await fig.count(), id).toBe(1);
      expect(await fig.getAttribute('data-empty'), id).toBeNull();
      const box = await fig.locator(':scope > svg').boundingBox();
      expect(box && box.width > 0 && box.height > 0, id).toBe(true);
      expect(await fig.locator('figcaption').textContent(), id).not.toBe('');
      expect(await fig.locator('ul.legend li').count(), id).toBeGreaterThan(0);
      expect(await fig.locator('[data-axis="y"] text.tick').count(), id).toBeGreaterThan(1);
      expect(await fig.locator('[data-axis="x"] text.tick').count(), id).toBeGreaterThan(0);
    }
    const s = full.series;
    const chart = (id: string, sel: string) => count(page, `figure[data-chart="${id}"] ${sel}`);

    expect(await chart('deployments', 'rect[data-bar="deployments"]')).toBe(
      s.filter((p) => p.deployments).length,
    );
    expect(await chart('deployments', 'rect[data-bar="rollbacks"]')).toBe(
      s.filter((p) => p.rollbacks).length,
    );
    expect(await chart('deployments', 'rect[data-bar="releases"]')).toBe(
      s.filter((p) => p.releasesApplied).length,
    );
    expect(await chart('deployments', 'rect[data-bar="toggles-on"]')).toBe(
      s.filter((p) => p.togglesOn).length,
    );
    // Every bar has a tooltip; the tallest deployment bar says how many.
    expect(await chart('deployments', '.marks rect:not(:has(> title))')).toBe(0);
    const most = Math.max(...s.map((p) => p.deployments));
    const titles = await page
      .locator('figure[data-chart="deployments"] rect[data-bar="deployments"] title')
      .allTextContents();
    expect(titles.some((t) => t.includes(`${most} deployments`))).toBe(true);

    expect(await chart('lead-time', 'circle[data-point="lead-time"]')).toBe(
      s.filter((p) => p.leadTimeMedianMs !== null).length,
    );
    expect(await chart('change-failure-rate', 'rect[data-bar="change-failure-rate"]')).toBe(
      s.filter((p) => p.changeFailureRate !== null).length,
    );
    const rec = full.recoveryTime.recoveries;
    expect(await chart('recovery', '[data-point="recovery"]')).toBe(
      rec.filter((r) => r.recoveryMs !== null).length,
    );
    expect(await chart('recovery', '[data-point="recovery-open"]')).toBe(full.recoveryTime.open.length);
    expect(await chart('build-time', 'circle[data-point="build-p50"]')).toBe(
      s.filter((p) => p.buildP50Ms !== null).length,
    );
    expect(await chart('build-time', 'circle[data-point="build-p95"]')).toBe(
      s.filter((p) => p.buildP95Ms !== null).length,
    );

    // Lines break at buckets without a value instead of drawing a trend across the gap (week 3 has no
    // deployment, week 4 no build).
    for (const [id, key] of [
      ['lead-time', 'leadTimeMedianMs'],
      ['build-p50', 'buildP50Ms'],
    ] as const) {
      const runs = s.filter((p, i) => p[key] !== null && (i === 0 || s[i - 1]![key] === null)).length;
      const d = await page.locator(`path[data-line="${id}"]`).getAttribute('d');
      expect(d?.match(/M/g)?.length, id).toBe(runs);
    }
    expect(s.map((p) => p.leadTimeMedianMs === null)).toEqual([false, false, true, false]);

    const points = full.rollbackTime.points;
    const slo = full.rollbackTime.sloMs;
    expect(await chart('rollback-time', '[data-point="rollback"]')).toBe(points.length);
    expect(await chart('rollback-time', '[data-point="rollback"][data-failed="true"]')).toBe(
      points.filter((p) => p.durationMs === null).length,
    );
    expect(await chart('rollback-time', 'circle.c-breach[data-point]')).toBe(
      points.filter((p) => p.durationMs !== null && p.durationMs > slo).length,
    );

    // SLO lines: one per SLO chart, at the SLO, with breaches drawn above it and the rest below.
    for (const [id, ms] of [
      ['build-time', full.buildTime.sloMs],
      ['rollback-time', slo],
    ] as const) {
      const line = page.locator(`figure[data-chart="${id}"] [data-slo-line]`);
      expect(await line.count(), id).toBe(1);
      expect(await line.getAttribute('data-slo-line')).toBe(String(ms));
      expect(await line.locator('text').textContent()).toBe(`SLO ${formatDuration(ms)}`);
    }
    const sloY = Number(
      await page.locator('figure[data-chart="rollback-time"] [data-slo-line] line').getAttribute('y1'),
    );
    const cy = (sel: string) =>
      page
        .locator(`figure[data-chart="rollback-time"] ${sel}`)
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute('cy'))));
    for (const y of await cy('circle.c-breach[data-point]')) expect(y).toBeLessThan(sloY);
    for (const y of await cy('circle.c-ok[data-point]')) expect(y).toBeGreaterThanOrEqual(sloY);

    // Every point and bar carries a tooltip.
    expect(
      await count(page, 'figure [data-point]:not(:has(> title)), figure [data-bar]:not(:has(> title))'),
    ).toBe(0);
    await page.close();
  });

  it('shows the header, band labels, trend words and the skipped-records note of the report', async () => {
    const { page } = await open(
      renderReportHtml(full, { generatedAt: '2024-01-29T08:00:00Z', title: 'Weekly' }),
    );
    expect(await page.title()).toBe('Weekly');
    const field = (f: string) => page.locator(`[data-field="${f}"]`).first().textContent();
    expect(await field('app')).toBe('web');
    expect(await field('env')).toBe('production');
    expect(await field('window')).toContain('[2024-01-01, 2024-01-29)');
    expect(await field('bucket')).toBe('week');
    expect(await field('generated')).toContain('2024-01-29 08:00 UTC');
    expect(await page.locator('body').textContent()).toContain('docs/metrics.md');
    expect(await page.locator('[data-bands-source]').textContent()).toBe(full.bands.source);

    const bands: Record<string, string | null> = {
      deploymentDaysPerWeek: full.bands.deploymentFrequency,
      leadTimeMedianMs: full.bands.leadTime,
      changeFailureRate: full.bands.changeFailureRate,
      recoveryMedianMs: full.bands.recoveryTime,
    };
    expect(await count(page, 'tr[data-metric]')).toBe(Object.keys(full.trend).length);
    for (const [key, trend] of Object.entries(full.trend)) {
      const row = page.locator(`tr[data-metric="${key}"]`);
      const band = key in bands ? (bands[key] ?? 'none') : 'n/a';
      expect(await row.locator('[data-band]').getAttribute('data-band'), key).toBe(band);
      if (key in bands && bands[key])
        expect(await row.locator('[data-band]').textContent(), key).toBe(bands[key]);
      const cell = row.locator('[data-trend]');
      expect(await cell.getAttribute('data-trend'), key).toBe(trend.direction ?? 'none');
      const text = await cell.textContent();
      if (trend.direction) expect(text, key).toContain(trend.direction);
      else expect(text, key).toContain('no comparison');
      if (trend.change !== null && trend.change !== 0)
        expect(text, key).toContain(trend.change > 0 ? '↑' : '↓');
    }
    const note = await page.locator('[data-skipped]').textContent();
    expect(note).toContain('Skipped records');
    expect(note).toContain(`${full.skipped.unknownShas} deployment`);

    const all = (await page.content()) + ((await page.locator('body').textContent()) ?? '');
    expect(all).not.toMatch(/NaN|Infinity|undefined/);
    await page.close();
  });

  it('says "no data in this window" for each chart of an empty window, without broken numbers', async () => {
    const { page, requests } = await open(renderReportHtml(empty, { generatedAt: '2024-01-29T08:00:00Z' }));
    for (const id of CHARTS) {
      const fig = page.locator(`figure[data-chart="${id}"]`);
      expect(await fig.count(), id).toBe(1);
      expect(await fig.getAttribute('data-empty'), id).toBe('true');
      expect(((await fig.textContent()) ?? '').toLowerCase(), id).toContain('no data in this window');
      expect(await fig.locator('svg').count(), id).toBe(0);
    }
    // Commits never seen are counted over the whole history, so the note stays (and says so).
    expect(await count(page, '[data-skipped]')).toBe(empty.skipped.unknownShas > 0 ? 1 : 0);
    expect(await count(page, 'tr[data-metric]')).toBe(Object.keys(empty.trend).length);
    const all = (await page.content()) + ((await page.locator('body').textContent()) ?? '');
    expect(all).not.toMatch(/NaN|Infinity|undefined/);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('leaves the skipped-records note out when nothing was skipped', () => {
    const html = renderReportHtml({
      ...empty,
      skipped: { unknownShas: 0, clockSkew: 0, incidentsOutOfOrder: 0 },
    });
    expect(html).not.toContain('data-skipped');
    expect(renderReportHtml({ ...empty, skipped: { ...empty.skipped, clockSkew: 2 } })).toContain(
      'data-skipped',
    );
  });

  it('fits its charts to their cards, and a 420 px window without overflowing it', async () => {
    const html = renderReportHtml([full, subSecond], { generatedAt: '2024-01-29T08:00:00Z' });
    for (const width of [420, 1600]) {
      const { page } = await open(html, width);
      const layout = (await page.evaluate(LAYOUT)) as Layout;
      expect(layout.viewport).toBe(width);
      expect(layout.scrollWidth, `${width} px`).toBe(layout.viewport);
      expect(layout.beyond, `${width} px`).toEqual([]);
      expect(layout.charts).toHaveLength(12);
      for (const c of layout.charts) {
        // Each chart fills its card (width 100%), whatever the card's width.
        expect(c.width, `${c.chart} at ${width} px`).toBeCloseTo(c.inner, 0);
        expect(c.clipped, `${c.chart} at ${width} px`).toEqual([]);
      }
      if (width === 1600) expect(layout.charts[0]!.width).toBeGreaterThan(720);
      await page.close();
    }
  });

  it('scales build and rollback times to the data: sub-second points stand clear of zero, the SLO is said to be above', async () => {
    const { page } = await open(renderReportHtml(subSecond));
    for (const id of ['build-time', 'rollback-time']) {
      const fig = page.locator(`figure[data-chart="${id}"]`);
      expect(await fig.locator('[data-slo-line]').count(), id).toBe(0);
      expect(await fig.locator('[data-slo-above] text').textContent(), id).toMatch(
        /^↑ SLO (10|1) min, above this scale$/,
      );
      const bottom = Number(await fig.locator('[data-axis="x"] line').first().getAttribute('y1'));
      const ys = await fig
        .locator('circle[data-point]')
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute('cy'))));
      expect(ys.length, id).toBeGreaterThan(0);
      // The largest point is at least halfway up the plot; none lies on the axis.
      expect(bottom - Math.min(...ys), id).toBeGreaterThan(90);
      for (const y of ys) expect(bottom - y, id).toBeGreaterThan(20);
      const ticks = await fig.locator('[data-axis="y"] text.tick').allTextContents();
      expect(ticks[0], id).toBe('0 ms');
      expect(
        ticks.every((t) => t.endsWith(' ms')),
        id,
      ).toBe(true);
    }
    // Minutes-long builds under a 10 min SLO: the axis starts at "0 min", not "0 ms".
    const { page: rich } = await open(renderReportHtml(full));
    for (const id of ['lead-time', 'recovery', 'build-time']) {
      const ticks = await rich
        .locator(`figure[data-chart="${id}"] [data-axis="y"] text.tick`)
        .allTextContents();
      const unit = ticks[0]!.split(' ')[1];
      expect(ticks[0], id).not.toBe('0 ms');
      expect(
        ticks.every((t) => t.endsWith(` ${unit}`)),
        `${id}: ${ticks}`,
      ).toBe(true);
    }
    await page.close();
    await rich.close();
  });

  it('has the rows of the CLI: deployment days with the raw rate beside them, and time to restore', async () => {
    const { page } = await open(renderReportHtml(full));
    const rows = await page
      .locator('tr[data-metric]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-metric')));
    expect(rows.slice(0, 2)).toEqual(['deploymentDaysPerWeek', 'deploymentsPerDay']);
    const cell = (key: string, sel: string) => page.locator(`tr[data-metric="${key}"] ${sel}`).textContent();
    expect(await cell('deploymentDaysPerWeek', 'td.value')).toBe(
      `${full.deploymentFrequency.deploymentDays.medianPerWeek} days/week`,
    );
    expect(await cell('deploymentDaysPerWeek', '[data-band]')).toBe(full.bands.deploymentFrequency);
    // One rate convention with the CLI: 12 deployments in 28 days is 3 a week, not "0.43 / day".
    expect(full.deploymentFrequency.perDay).toBeCloseTo(12 / 28);
    expect(await cell('deploymentsPerDay', 'td.value')).toBe('3/week');
    const ttr = full.timeToRestore;
    expect(ttr.n).toBeGreaterThan(0);
    expect(await cell('timeToRestoreMedianMs', 'td.value')).toBe(formatDuration(ttr.median));
    expect(await cell('timeToRestoreMedianMs', 'td.detail')).toContain(
      `${ttr.n} resolved, ${ttr.open.length} open`,
    );
    await page.close();
  });

  it('escapes names from users: they show as text, nothing runs, nothing loads', async () => {
    const app = '<script>alert(1)</script>';
    const env = '"><img src=x onerror=alert(2)>';
    const html = renderReportHtml({ ...full, app, env }, { title: `<b>${app}</b>` });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    const { page, requests, dialogs } = await open(html);
    expect(await page.locator('h2').first().textContent()).toBe(`${app} / ${env}`);
    expect(await page.locator('[data-field="app"]').textContent()).toBe(app);
    expect(await page.locator('[data-field="env"]').textContent()).toBe(env);
    expect(await page.locator('h1').textContent()).toBe(`<b>${app}</b>`);
    expect(await page.locator('section.report').getAttribute('data-app')).toBe(app);
    expect(await count(page, 'script, img, b')).toBe(0);
    await page.waitForTimeout(50);
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });
});

describe('formatting and scales', () => {
  it('formats durations for people', () => {
    expect(formatDuration(350)).toBe('350 ms');
    expect(formatDuration(0)).toBe('0 ms');
    expect(formatDuration(4_200)).toBe('4.2 s');
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(59_970)).toBe('1 min');
    expect(formatDuration(3 * 60_000)).toBe('3 min');
    expect(formatDuration(5.1 * 3_600_000)).toBe('5.1 h');
    expect(formatDuration(2.3 * 86_400_000)).toBe('2.3 d');
    expect(formatDuration(45 * 86_400_000)).toBe('45 d');
    expect(formatDuration(-90_000)).toBe('−1.5 min');
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('—');
    expect(formatPercent(0.25)).toBe('25%');
    expect(formatPercent(1 / 3)).toBe('33.3%');
    expect(formatPercent(null)).toBe('—');
  });

  it('makes round ticks that cover the data', () => {
    expect(niceTicks(7, 5, true)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(3, 5, true)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(1, 5, true)).toEqual([0, 1]);
    expect(niceTicks(0.9)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 5, true)).toEqual([0, 1]);
    expect(niceTicks(0, 2)).toEqual([0, 0.5, 1]);
    expect(niceTicks(Number.NaN, 5, true)).toEqual([0, 1]);
    expect(durationTicks(45_000)).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000]);
    expect(durationTicks(25 * 60_000)).toEqual([0, 5, 10, 15, 20, 25].map((m) => m * 60_000));
    expect(durationTicks(0)).toEqual([0, 1_000]);
    for (const max of [1, 999, 61_000, 3.7e6, 9e7, 4e9, 1e11]) {
      const t = durationTicks(max);
      expect(t[0]).toBe(0);
      expect(t[t.length - 1]).toBeGreaterThanOrEqual(max);
      expect(t.length).toBeLessThanOrEqual(7);
    }
    // Tick labels in one unit, the largest the step is a whole number of.
    expect(durationTickLabels(durationTicks(25 * 60_000))).toEqual([
      '0 min',
      '5 min',
      '10 min',
      '15 min',
      '20 min',
      '25 min',
    ]);
    expect(durationTickLabels(durationTicks(90_000))).toEqual(['0 s', '30 s', '60 s', '90 s']);
    expect(durationTickLabels(durationTicks(450))).toEqual([
      '0 ms',
      '100 ms',
      '200 ms',
      '300 ms',
      '400 ms',
      '500 ms',
    ]);
    expect(durationTickLabels(durationTicks(5 * 3_600_000))[0]).toBe('0 h');
    // Rates: the CLI's convention, per day from one a day, else per week.
    expect([humanRate(0.18), humanRate(10 / 7), humanRate(12), humanRate(0), humanRate(null)]).toEqual([
      '1.3/week',
      '1.4/day',
      '12/day',
      '0/week',
      '—',
    ]);
    const y = linearScale(0, 100, 200, 0);
    expect([y(0), y(50), y(100)]).toEqual([200, 100, 0]);
    expect(linearScale(5, 5, 10, 20)(5)).toBe(10);
  });

  it('escapes HTML and words trends', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(
      trendText('leadTimeMedianMs', {
        current: 3_600_000,
        previous: 7_200_000,
        change: -3_600_000,
        direction: 'better',
      }),
    ).toBe('↓ better (−1 h; was 2 h)');
    expect(
      trendText('changeFailureRate', { current: 0.5, previous: 0.25, change: 0.25, direction: 'worse' }),
    ).toBe('↑ worse (+25 pp; was 25%)');
    expect(trendText('releases', { current: 2, previous: 2, change: 0, direction: 'same' })).toBe(
      '→ same (was 2)',
    );
    expect(trendText('buildP95Ms', { current: 1, previous: null, change: null, direction: null })).toBe(
      'no comparison (previous window: no data)',
    );
  });
});
