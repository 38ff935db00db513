import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { type BundleSizes, buildConsole, bundleSizes, gzipOf } from './console-bundle.js';
import { ENVIRONMENTS, seedBoard } from './console-seed.js';
import { type BenchServer, median, percentile, Scope, sleep, startBenchServer } from './support.js';

export interface BoardLoad {
  apps: number;
  environments: number;
  deployments: number;
  loads: number;
  /** Per load, ms after navigation start: all cells in the DOM, then a frame and a task later. */
  cellsMs: number[];
  interactiveMs: number[];
  medianMs: number;
  maxMs: number;
  cellsMedianMs: number;
  /** Medians over the loads, ms after navigation start (browser resource timing). */
  phases: { scriptsLoadedMs: number; sessionDoneMs: number; statusStartMs: number; statusDoneMs: number };
  /** Median of the longest main-thread task of each load, and of its total blocking time. */
  longestTaskMs: number;
  blockingMs: number;
  /** Median ms of the board's second request (/api/board: waiting commits, standbys), sent after /api/status. */
  boardExtrasMs: number;
  /** os.loadavg() over 1 minute when the loads began: the machine is shared. */
  loadAverage: number;
  /** The API requests of the last load, ms after navigation start: what the board waits for. */
  requests: Load['requests'];
  /** JavaScript the page fetched before the board was interactive, gzip (default level). */
  fetchedJs: { files: number; gzip: number };
  /** GET /api/status from Node, warm: median / max ms and the answer's size. */
  status: { medianMs: number; maxMs: number; bytes: number; items: number; requests: number };
  /** The same once more after the live updates (is the first figure the server's steady state?). */
  statusAfter?: { medianMs: number; maxMs: number };
  setupMs: { apps: number; insert: number };
  goalMs: number;
}

export interface LiveUpdate {
  changes: number;
  /** Just before the lock request is sent (Node) → the cell says "locked by" (MutationObserver in the page). */
  lock: { medianMs: number; p95Ms: number; maxMs: number };
  /** Medians for the lock, ms after the request was sent: the console's refetch of /api/status starts, ends. */
  refetch: { startMs: number; endMs: number };
  /** The same for the unlock: the badge disappears. */
  unlock: { medianMs: number; p95Ms: number; maxMs: number };
  goalMs: number;
}

export interface ConsoleBench {
  bundle: BundleSizes;
  board: BoardLoad;
  live: LiveUpdate;
}

export interface ConsoleBenchOptions {
  apps?: number;
  deployments?: number;
  loads?: number;
  changes?: number;
  /** A console already built (skips the two-minute build); default: build one into a temporary folder. */
  webDir?: string;
}

const CHROMIUM = process.env.GANTRY_BENCH_CHROMIUM ?? '/usr/bin/chromium';

/**
 * The web console (issue 13): the JavaScript a first visit of the board downloads, the board with
 * 20 apps × 4 environments and 10,000 deployments loaded in headless Chromium until it answers
 * input, and an environment lock made through the API until it shows on the open board.
 */
export async function benchConsole(opts: ConsoleBenchOptions = {}): Promise<ConsoleBench> {
  const apps = opts.apps ?? 20;
  const scope = new Scope();
  try {
    let webDir = opts.webDir ?? process.env.GANTRY_BENCH_WEB_DIR;
    let buildMs = 0;
    if (!webDir) {
      webDir = await scope.tempDir('web');
      buildMs = await buildConsole(webDir);
    }
    const bundle = await bundleSizes(webDir, buildMs);

    // The builds only make the apps real; unsandboxed they take less of a shared machine's time.
    const bench = await startBenchServer(scope, undefined, {
      GANTRY_WEB_DIR: webDir,
      GANTRY_BUILDS_SANDBOX: 'off',
    });
    const seeded = await seedBoard(scope, bench, { apps, deployments: opts.deployments ?? 10_000 });
    const cells = apps * ENVIRONMENTS.length;
    const status = await statusTimes(bench, cells, 10);

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    scope.defer(() => browser.close());
    const storageState = await signedInState(browser, bench);
    const loadAverage = loadavg()[0]!;
    const loads = await boardLoads(browser, bench, storageState, cells, opts.loads ?? 10);
    const fetched = loads.at(-1)!.scripts;
    const board: BoardLoad = {
      apps,
      environments: ENVIRONMENTS.length,
      deployments: seeded.deployments,
      loads: loads.length,
      cellsMs: loads.map((l) => l.cellsAt),
      interactiveMs: loads.map((l) => l.idleAt),
      medianMs: median(loads.map((l) => l.idleAt)),
      maxMs: Math.max(...loads.map((l) => l.idleAt)),
      cellsMedianMs: median(loads.map((l) => l.cellsAt)),
      phases: {
        scriptsLoadedMs: median(loads.map((l) => l.scriptsEnd)),
        sessionDoneMs: median(loads.map((l) => l.sessionEnd)),
        statusStartMs: median(loads.map((l) => l.statusStart)),
        statusDoneMs: median(loads.map((l) => l.statusEnd)),
      },
      boardExtrasMs: median(loads.map((l) => l.extrasMs)),
      loadAverage,
      longestTaskMs: median(loads.map((l) => l.longest)),
      blockingMs: median(loads.map((l) => l.blocking)),
      requests: loads.at(-1)!.requests,
      fetchedJs: { files: fetched.length, gzip: await gzipOf(webDir, fetched) },
      status,
      setupMs: { apps: seeded.appsMs, insert: seeded.insertMs },
      goalMs: 1000,
    };
    const live = await liveUpdates(browser, bench, storageState, seeded.apps, opts.changes ?? 20);
    const after = await statusTimes(bench, cells, 10);
    board.statusAfter = { medianMs: after.medianMs, maxMs: after.maxMs };
    return { bundle, board, live };
  } finally {
    await scope.close();
  }
}

async function statusTimes(
  bench: BenchServer,
  cells: number,
  requests: number,
): Promise<BoardLoad['status']> {
  const times: number[] = [];
  let bytes = 0;
  let items = 0;
  for (let i = 0; i < requests + 1; i++) {
    const t = performance.now();
    const res = await fetch(`${bench.server.url}/api/status`, {
      headers: { authorization: `Bearer ${bench.token}` },
    });
    const body = await res.text();
    if (i > 0) times.push(performance.now() - t); // the first call also creates the environments' records
    bytes = Buffer.byteLength(body);
    items = (JSON.parse(body) as unknown[]).length;
    if (res.status !== 200 || items !== cells)
      throw new Error(`GET /api/status → ${res.status}, ${items} items`);
  }
  return { medianMs: median(times), maxMs: Math.max(...times), bytes, items, requests };
}

type StorageState = Awaited<ReturnType<import('playwright-core').BrowserContext['storageState']>>;

/** Signs in through the form once; each load then starts from that cookie in a fresh context. */
async function signedInState(browser: Browser, bench: BenchServer): Promise<StorageState> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(bench.server.url);
    await page.getByLabel('API token').fill(bench.token);
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await page.getByRole('heading', { name: 'Board', level: 1 }).waitFor();
    return await context.storageState();
  } finally {
    await context.close();
  }
}

/** Set up before any script of the page runs: when all cells are there, and a frame and a task later. */
const WATCH_BOARD = (cells: number) => `(() => {
  const b = { cellsAt: null, idleAt: null, longest: 0, blocking: 0 };
  window.__bench = b;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        b.longest = Math.max(b.longest, e.duration);
        b.blocking += Math.max(0, e.duration - 50);
      }
    }).observe({ type: 'longtask', buffered: true });
  } catch {}
  const mo = new MutationObserver(() => {
    if (b.cellsAt !== null || document.querySelectorAll('[data-testid^="cell-"]').length < ${cells}) return;
    b.cellsAt = performance.now();
    mo.disconnect();
    requestAnimationFrame(() => setTimeout(() => { b.idleAt = performance.now(); }, 0));
  });
  mo.observe(document, { childList: true, subtree: true });
})()`;

const READ_LOAD = `(() => {
  const r = performance.getEntriesByType('resource');
  const end = (f) => Math.max(0, ...r.filter(f).map((e) => e.responseEnd));
  const api = (p) => r.find((e) => new URL(e.name).pathname === p);
  const scripts = r.filter((e) => e.initiatorType !== 'fetch' && new URL(e.name).pathname.endsWith('.js'));
  return {
    ...window.__bench,
    cells: document.querySelectorAll('[data-testid^="cell-"]').length,
    scriptsEnd: end((e) => scripts.includes(e)),
    sessionEnd: api('/api/session')?.responseEnd ?? -1,
    statusStart: api('/api/status')?.startTime ?? -1,
    statusEnd: api('/api/status')?.responseEnd ?? -1,
    extrasMs: api('/api/board') ? api('/api/board').responseEnd - api('/api/board').startTime : -1,
    requests: r.filter((e) => new URL(e.name).pathname.startsWith('/api/')).map((e) => ({
      path: new URL(e.name).pathname,
      startMs: Math.round(e.startTime),
      endMs: Math.round(e.responseEnd),
    })),
    scripts: scripts.filter((e) => e.startTime <= window.__bench.idleAt).map((e) => new URL(e.name).pathname),
  };
})()`;

interface Load {
  cellsAt: number;
  idleAt: number;
  longest: number;
  blocking: number;
  cells: number;
  scriptsEnd: number;
  sessionEnd: number;
  statusStart: number;
  statusEnd: number;
  extrasMs: number;
  requests: { path: string; startMs: number; endMs: number }[];
  scripts: string[];
}

/** `n` first visits of `/` (fresh context: no cache, the session cookie only), after two warm-up visits. */
async function boardLoads(
  browser: Browser,
  bench: BenchServer,
  storageState: StorageState,
  cells: number,
  n: number,
): Promise<Load[]> {
  const out: Load[] = [];
  for (let i = -2; i < n; i++) {
    const context = await browser.newContext({ storageState, viewport: { width: 1280, height: 800 } });
    try {
      await context.addInitScript(WATCH_BOARD(cells));
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(bench.server.url, { waitUntil: 'commit' });
      await page.waitForFunction(
        () => (globalThis as { __bench?: { idleAt: number | null } }).__bench?.idleAt != null,
        null,
        {
          timeout: 30_000,
        },
      );
      // The board asks /api/board once /api/status is in; the next load must not queue behind it.
      await page
        .waitForFunction(
          () =>
            (
              globalThis as unknown as { performance: { getEntriesByType(t: string): { name: string }[] } }
            ).performance
              .getEntriesByType('resource')
              .some((e) => new URL(e.name).pathname === '/api/board'),
          null,
          { timeout: 60_000, polling: 50 },
        )
        .catch(() => undefined);
      const load = await page.evaluate<Load>(READ_LOAD);
      if (load.cells !== cells) throw new Error(`the board shows ${load.cells} cells, expected ${cells}`);
      if (errors.length) throw new Error(`errors in the page: ${errors.join('; ')}`);
      if (i >= 0) out.push(load);
    } finally {
      await context.close();
    }
    await sleep(200);
  }
  return out;
}

/** Records when the cell's text starts and stops saying "locked by", in the machine's clock. */
const WATCH_LOCK = (selector: string) => `(() => {
  performance.setResourceTimingBufferSize(10000);
  const s = { locked: false, at: null };
  window.__lock = s;
  const check = () => {
    const el = document.querySelector(${JSON.stringify(selector)});
    const locked = !!el && el.textContent.includes('locked by');
    if (locked !== s.locked) { s.locked = locked; s.at = performance.timeOrigin + performance.now(); }
  };
  new MutationObserver(check).observe(document.body, { childList: true, subtree: true, characterData: true });
  check();
})()`;

async function liveUpdates(
  browser: Browser,
  bench: BenchServer,
  storageState: StorageState,
  apps: string[],
  changes: number,
): Promise<LiveUpdate> {
  const app = apps[Math.floor(apps.length / 2)]!;
  const env = 'production';
  const path = `/api/apps/${app}/environments/${env}/lock`;
  const context = await browser.newContext({ storageState, viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    await page.goto(bench.server.url);
    await page.locator(`[data-testid="cell-${app}-${env}"]`).waitFor();
    // The event stream is open once the console says so; give it a moment after the board rendered.
    await sleep(1_000);
    await page.evaluate(WATCH_LOCK(`[data-testid="cell-${app}-${env}"]`));
    const lock: number[] = [];
    const refetchStart: number[] = [];
    const refetchEnd: number[] = [];
    const unlock: number[] = [];
    const until = async (locked: boolean, sent: number) => {
      // A function, not a string: the console's Content-Security-Policy forbids eval.
      await page.waitForFunction(
        (want) => (globalThis as { __lock?: { locked: boolean } }).__lock?.locked === want,
        locked,
        {
          timeout: 10_000,
          polling: 10,
        },
      );
      return (await page.evaluate<number>('window.__lock.at')) - sent;
    };
    for (let i = 0; i < changes; i++) {
      let sent = Date.now();
      await bench.api('POST', path, { reason: 'bench: live update' });
      lock.push(await until(true, sent));
      const refetch = await page.evaluate<{ start: number; end: number } | null>(`(() => {
        const e = performance.getEntriesByType('resource').find((e) =>
          new URL(e.name).pathname === '/api/status' && performance.timeOrigin + e.startTime >= ${sent});
        return e ? { start: performance.timeOrigin + e.startTime - ${sent}, end: performance.timeOrigin + e.responseEnd - ${sent} } : null;
      })()`);
      if (refetch) {
        refetchStart.push(refetch.start);
        refetchEnd.push(refetch.end);
      }
      await sleep(200);
      sent = Date.now();
      await bench.api('DELETE', path);
      unlock.push(await until(false, sent));
      await sleep(200);
    }
    return {
      changes,
      lock: stats(lock),
      refetch: { startMs: median(refetchStart), endMs: median(refetchEnd) },
      unlock: stats(unlock),
      goalMs: 500,
    };
  } finally {
    await context.close();
  }
}

function stats(xs: number[]) {
  return { medianMs: median(xs), p95Ms: percentile(xs, 95), maxMs: Math.max(...xs) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchConsole(), null, 2));
}
