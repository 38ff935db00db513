import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Build } from '@gantry/contracts';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, finishedBuild, yamlWithSteps } from '../../../server/test/support/app-fixture.js';
import {
  createDeployableApp,
  deployedTo,
  deployYaml,
  envPorts,
  SERVER_JS,
} from '../../../server/test/support/deploy-fixture.js';
import { cleanupAll, makeTempDir } from '../../../server/test/support/git-fixtures.js';
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
let v1: string;
let gates: string;

const PACKAGE_STEP = '    - { name: package, run: "mkdir -p dist && cp server.js VERSION dist/" }';

/**
 * gantry.yaml with a first step that runs build.sh: it prints coloured lines, then waits for the
 * test to create `gate` (so the test sees the output while the build runs, whatever the timing).
 */
function yamlWithScript(): string {
  return deployYaml(ports).replace(
    PACKAGE_STEP,
    `    - { name: colours, run: "sh build.sh" }\n${PACKAGE_STEP}`,
  );
}

function buildScript(gate: string): string {
  return [
    `printf '\\033[32mgreen line\\033[0m\\n'`,
    `printf '\\033[1;31mbold red\\033[0m <script>window.injected = 1</script>\\n'`,
    `printf '\\033]0;window title\\007\\033[2Kno escapes here\\n'`,
    `i=0; while [ $i -lt 150 ]; do i=$((i+1)); echo "filler $i"; done`,
    `for i in 1 2 3; do printf 'tick %s needle\\n' "$i"; done`,
    `while [ ! -f '${gate}' ]; do sleep 0.1; done`,
    `printf '\\033[33mafter the gate\\033[0m\\n'`,
    '',
  ].join('\n');
}

/** Pushes a commit whose build waits on `gate`, tells the server, and answers its SHA and build id. */
async function pushGatedCommit(version: string, gate: string): Promise<{ sha: string; buildId: string }> {
  const sha = await app.pushFiles(
    {
      'gantry.yaml': yamlWithScript(),
      'build.sh': buildScript(gate),
      'server.js': SERVER_JS,
      VERSION: version,
    },
    `${version}: coloured build`,
  );
  const sync = await server.api<{ buildIds: string[] }>('POST', '/api/apps/shop/sync');
  expect(sync.status).toBe(200);
  const buildId = sync.body.buildIds[0];
  if (!buildId) throw new Error(`no build queued: ${JSON.stringify(sync.body)}`);
  return { sha, buildId };
}

async function buildStatus(id: string): Promise<string> {
  return (await server.api<Build>('GET', `/api/builds/${id}`)).body.status;
}

/** Whether the log box shows its last line. */
function scrolledToEnd(page: Page): Promise<boolean> {
  return page
    .getByRole('log', { name: 'Build log' })
    .evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 4);
}

function row(page: Page, sha: string) {
  return page.locator(`tr[data-sha="${sha}"]`);
}

beforeAll(async () => {
  if (!CHROMIUM) return;
  browser = await launchBrowser();
  // Unsandboxed builds, so a step can wait on a file the test creates.
  server = await consoleServer(undefined, { buildsSandbox: 'off' });
  ports = await envPorts();
  app = await createDeployableApp(server, ports);
  v1 = app.v1;
  await deployedTo(server, 'qa', v1);
  gates = await makeTempDir('gantry-gates-');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await cleanupAll();
});

describe.runIf(CHROMIUM)('commits and builds in Chromium', () => {
  it('shows a pushed commit live, its log while it runs (colours, search, download), and QA reached', async () => {
    const c = await signedInConsole(browser, server.url, server.token, '/apps/shop/commits');
    const { page } = c;
    await page.getByRole('heading', { name: 'Commits of shop', level: 1 }).waitFor();
    await row(page, v1).getByRole('link', { name: 'build: succeeded' }).waitFor();
    await row(page, v1)
      .getByRole('link', { name: /qa: succeeded/ })
      .waitFor();
    const headers = await page.locator('.pipeline-table thead th').allTextContents();
    expect(headers).toEqual(['Commit', 'Build', 'qa', 'staging', 'production']);

    // A push appears without a reload, with its build running.
    const gate = join(gates, 'first');
    const { sha, buildId } = await pushGatedCommit('v2', gate);
    const buildLink = row(page, sha).getByRole('link', { name: /^build: (queued|running)$/ });
    await buildLink.waitFor();
    expect(await page.locator('tbody tr').first().getAttribute('data-sha')).toBe(sha);
    await expectAccessible(page, 'the commits page');
    await screenshot(page, 'builds-commits');

    // Its build page: the log arrives while the build still runs.
    await buildLink.click();
    await page.getByRole('heading', { name: /Build of/, level: 1 }).waitFor();
    const log = page.getByRole('log', { name: 'Build log' });
    await log.getByText('tick 3 needle').waitFor();
    expect(await buildStatus(buildId)).toBe('running');
    await expect(log.locator('.ansi-green').first().textContent()).resolves.toBe('green line');
    await expect(log.locator('.ansi-red.ansi-bold').first().textContent()).resolves.toBe('bold red');
    // Markup in the output is text, and other escape sequences are gone.
    await log.getByText('<script>window.injected = 1</script>', { exact: false }).waitFor();
    expect(await log.locator('script').count()).toBe(0);
    expect(await page.evaluate('window.injected')).toBeUndefined();
    const text = (await log.textContent()) ?? '';
    expect(text).toContain('no escapes here');
    expect(text).not.toContain('window title');
    expect(text).not.toContain('\x1b');

    // Follow mode: the newest line in view until the reader scrolls up.
    const follow = page.getByRole('button', { name: 'Follow' });
    expect(await follow.getAttribute('aria-pressed')).toBe('true');
    await waitFor(async () => ((await scrolledToEnd(page)) ? true : undefined), 'the log to follow its end');
    // A step's name in the steps table scrolls the log up to its output, which pauses following.
    await page
      .getByRole('table', { name: 'Steps of this build' })
      .getByRole('button', { name: 'colours (show its log)' })
      .click();
    await waitFor(
      async () => ((await follow.getAttribute('aria-pressed')) === 'false' ? true : undefined),
      'following to pause',
    );
    expect(await log.evaluate((el) => el.scrollTop)).toBeLessThan(50);
    await expect(page.getByRole('button', { name: 'Cancel build' }).isVisible()).resolves.toBe(true);

    // Search: counts, highlights, moves.
    await page.getByRole('searchbox', { name: 'Search the log' }).fill('NEEDLE');
    const count = page.getByTestId('log-match-count');
    await expect(count.textContent()).resolves.toBe('1 of 3');
    expect(await log.locator('mark').count()).toBe(3);
    await page.getByRole('button', { name: 'Next match' }).click();
    await expect(count.textContent()).resolves.toBe('2 of 3');
    await expect(log.locator('mark.current').textContent()).resolves.toBe('needle');
    await expect(follow.getAttribute('aria-pressed')).resolves.toBe('false');
    await page.getByRole('button', { name: 'Previous match' }).click();
    await page.getByRole('button', { name: 'Previous match' }).click();
    await expect(count.textContent()).resolves.toBe('3 of 3');
    await expectAccessible(page, 'the build page while it runs');

    // Download: the raw log, escape sequences and all.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the raw log' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`build-${buildId}.log`);
    const raw = await readFile((await download.path()) ?? '', 'utf8');
    expect(raw).toContain('==> colours');
    expect(raw).toContain('\x1b[32mgreen line\x1b[0m');

    // The build goes on: the rest of the log, the artifact, and QA after the auto-deploy.
    // New output while paused does not move the log; the toggle brings it back to the end.
    await log.evaluate((el) => {
      el.scrollTop = 0;
    });
    await writeFile(gate, '');
    await log.getByText('after the gate').waitFor();
    expect(await log.evaluate((el) => el.scrollTop)).toBe(0);
    await follow.click();
    expect(await follow.getAttribute('aria-pressed')).toBe('true');
    await waitFor(async () => ((await scrolledToEnd(page)) ? true : undefined), 'the log to follow again');
    await page
      .getByRole('heading', { name: /Build of/ })
      .getByText('succeeded')
      .waitFor();
    const artifact = page.getByRole('region', { name: 'Artifact' });
    await artifact.getByText(/^sha256:[0-9a-f]{64}$/).waitFor();
    await artifact.getByText('tarball').waitFor();
    await expect(page.getByRole('button', { name: 'Cancel build' }).count()).resolves.toBe(0);
    await screenshot(page, 'builds-build');

    await page.getByRole('link', { name: '← Commits of shop' }).click();
    await row(page, sha).getByRole('link', { name: 'build: succeeded' }).waitFor();
    await row(page, sha)
      .getByRole('link', { name: 'qa: succeeded, running there now' })
      .waitFor({ timeout: 60_000 });
    expect(await row(page, sha).locator('td').nth(2).textContent()).toBe('—');
    await c.close();
  });

  it('the commits page at 375 px in dark mode: accessible, no sideways scroll', async () => {
    const c = await signedInConsole(browser, server.url, server.token, '/commits', {
      viewport: { width: 375, height: 800 },
      colorScheme: 'dark',
    });
    await c.page.getByRole('heading', { name: 'Commits of shop', level: 1 }).waitFor();
    await row(c.page, v1).getByRole('link', { name: 'build: succeeded' }).waitFor();
    await expectAccessible(c.page, 'the commits page (dark, 375 px)');
    await expectNoSidewaysScroll(c.page, 'the commits page (dark, 375 px)');
    await c.close();
  });

  it('cancels a running build from its page (375 px, dark), and asks before rebuilding a SHA that has an artifact', async () => {
    // Should the test before have stopped early, its build must not hold this one in the queue.
    await writeFile(join(gates, 'first'), '');
    const { sha, buildId } = await pushGatedCommit('v3', join(gates, 'never'));
    await waitFor(
      async () => ((await buildStatus(buildId)) === 'running' ? true : undefined),
      'the build to run',
    );
    const c = await signedInConsole(browser, server.url, server.token, `/apps/shop/builds/${buildId}`, {
      colorScheme: 'dark',
      viewport: { width: 375, height: 800 },
    });
    const { page } = c;
    await page.getByRole('log', { name: 'Build log' }).getByText('tick 1 needle').waitFor();
    await page.getByRole('button', { name: 'Cancel build' }).click();
    await page.getByRole('dialog', { name: 'Cancel this build?' }).waitFor();
    await page.getByRole('button', { name: 'Cancel the build' }).click();
    await page
      .getByRole('heading', { name: /Build of/ })
      .getByText('cancelled')
      .waitFor();
    expect((await finishedBuild(server, buildId)).status).toBe('cancelled');
    await expectAccessible(page, 'the build page (dark, 375 px, cancelled)');
    await expectNoSidewaysScroll(page, 'the build page (dark, 375 px)');
    await page.goto(`${server.url}/apps/shop/commits`);
    await row(page, sha).getByRole('link', { name: 'build: cancelled' }).waitFor();

    // Rebuilding v1, which has an artifact: the server says so and the page asks first.
    const v1Build = (await server.api<Build[]>('GET', `/api/builds?app=shop&sha=${v1}`)).body[0];
    await page.goto(`${server.url}/apps/shop/builds/${v1Build?.id}`);
    await page.getByRole('button', { name: 'Rebuild' }).click();
    const notice = page.getByRole('status').filter({ hasText: 'already has an artifact' });
    await notice.getByText(/^sha256:/).waitFor();
    await page.getByRole('button', { name: 'Build a new artifact anyway' }).click();
    await page.waitForURL((u) => !u.pathname.endsWith(`/builds/${v1Build?.id}`));
    const rebuiltId = page.url().split('/').at(-1) ?? '';
    const rebuilt = await finishedBuild(server, rebuiltId);
    expect(rebuilt.sha).toBe(v1);
    expect(rebuilt.reason).toBe('rebuild');
    await page
      .getByRole('heading', { name: /Build of/ })
      .getByText('succeeded')
      .waitFor();
    await c.close();
  });

  it('/commits with two apps shows both, and the picker opens one', async () => {
    const blog = await createApp(server, yamlWithSteps(['echo built']), { name: 'blog' });
    const blogBuild = blog.buildIds[0] ?? '';
    await finishedBuild(server, blogBuild);
    const c = await signedInConsole(browser, server.url, server.token, '/commits');
    const { page } = c;
    await page.getByRole('heading', { name: 'Commits', level: 1, exact: true }).waitFor();
    await page.getByRole('heading', { name: 'blog', level: 2 }).waitFor();
    await page.getByRole('heading', { name: 'shop', level: 2 }).waitFor();
    await page
      .getByRole('region', { name: 'blog' })
      .getByRole('link', { name: 'build: succeeded' })
      .waitFor();
    await expectAccessible(page, 'the commits page of all apps');
    await page.getByLabel('App').selectOption('blog');
    await page.getByRole('heading', { name: 'Commits of blog', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/apps/blog/commits');
    await c.close();
  });
});
