import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../../support/engines.js';
import { cleanupAll } from '../../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { admin } from '../ofrep/ofrep-fixture.js';
import { frontendFixture, sdkToken } from './frontend-fixture.js';

/** Set by test/global-setup.ts when Chromium is installed; CI requires it (GANTRY_REQUIRE_CHROMIUM=1). */
const CHROMIUM = process.env.TEST_CHROMIUM;
/** The SDK's browser bundle (UMD, sets `window.unleash`), as a page would load it from a CDN. */
const BUNDLE = join(dirname(createRequire(import.meta.url).resolve('unleash-proxy-client')), 'main.min.js');

afterAll(cleanupAll);

/** A page on another origin than Gantry's, so the browser enforces CORS on every SDK call. */
function page(gantryUrl: string, token: string): string {
  return `<!doctype html><html><head><script src="/unleash.js"></script></head><body>
<p id="checkout">loading</p><p id="colour"></p><p id="later"></p>
<script>
  const client = new unleash.UnleashClient({
    url: ${JSON.stringify(`${gantryUrl}/api/frontend`)},
    clientKey: ${JSON.stringify(token)},
    appName: 'shop-web',
    refreshInterval: 1,
    context: { userId: 'vip' },
  });
  const show = () => {
    document.getElementById('checkout').textContent = client.isEnabled('new-checkout') ? 'on' : 'off';
    const v = client.getVariant('button-colour');
    document.getElementById('colour').textContent = v.enabled ? v.name + ' ' + v.payload.value : 'none';
    document.getElementById('later').textContent = client.isEnabled('later') ? 'on' : 'off';
  };
  client.on('ready', show);
  client.on('update', show);
  client.on('error', (e) => { document.getElementById('checkout').textContent = 'error ' + JSON.stringify(e); });
  client.start();
</script></body></html>`;
}

let browser: Browser;

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

describe.runIf(CHROMIUM).each(engines)(
  'unleash-proxy-client in Chromium against the Frontend API on $name',
  (engine) => {
    let server: TestServer;
    let site: Server;
    let siteUrl: string;

    beforeAll(async () => {
      server = await startTestServer(engine);
      await frontendFixture(server);
      const token = await sdkToken(server, 'frontend');
      const bundle = await readFile(BUNDLE);
      const html = page(server.url, token);
      site = createServer((req, res) => {
        if (req.url === '/unleash.js') {
          res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
        } else {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
        }
      });
      await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
      // "localhost" is another origin than Gantry's 127.0.0.1 (and another port).
      siteUrl = `http://localhost:${(site.address() as AddressInfo).port}/`;
    });

    afterAll(async () => {
      await new Promise((resolve) => site?.close(resolve));
      await server.close();
    });

    it('reads flags and variants, and sees a change on its next refresh', async () => {
      const tab = await browser.newPage();
      try {
        await tab.goto(siteUrl);
        await tab.waitForFunction("document.getElementById('checkout').textContent !== 'loading'", null, {
          timeout: 45_000,
        });
        expect(await tab.textContent('#checkout')).toBe('on');
        expect(await tab.textContent('#colour')).toBe('green #0f0');
        expect(await tab.textContent('#later')).toBe('off');
        await admin(server, 'PUT', '/api/apps/shop/toggles/later/environments/production', { enabled: true });
        await tab.waitForFunction("document.getElementById('later').textContent === 'on'", null, {
          timeout: 45_000,
        });
      } finally {
        await tab.close();
      }
    });
  },
);
