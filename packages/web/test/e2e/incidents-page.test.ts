import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../contracts/src/index.js';
import {
  createDeployableApp,
  deployedTo,
  deploymentDone,
  envPorts,
} from '../../../server/test/support/deploy-fixture.js';
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

interface Incident {
  id: string;
  app: string;
  env: string;
  title: string;
  deploymentId: string | null;
  openedBy: string;
  resolvedAt: string | null;
}

let browser: Browser;
let server: TestServer;
let first: Deployment;

beforeAll(async () => {
  if (!CHROMIUM) return;
  browser = await launchBrowser();
  server = await consoleServer();
  const app = await createDeployableApp(server, await envPorts());
  first = await deployedTo(server, 'qa', app.v1);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await cleanupAll();
});

describe.runIf(CHROMIUM)('incidents in the console (Chromium)', () => {
  it('opens an incident linked to a deployment, shows its timeline with the deployments made while it is open, and resolves it after a confirmation', async () => {
    const c = await signedInConsole(browser, server.url, server.token, '/incidents');
    const { page } = c;
    await page.getByText('No incidents recorded').waitFor();
    await expectAccessible(page, 'the incidents page, empty');

    await page.getByRole('button', { name: 'Open an incident' }).click();
    const dialog = page.getByRole('dialog', { name: 'Open an incident' });
    await dialog.getByLabel('App').selectOption('shop');
    await dialog.getByLabel('Environment', { exact: true }).selectOption('qa');
    await dialog.getByLabel(/Title/).fill('Checkout answers 500');
    const link = dialog.getByLabel(/Caused by deployment/);
    await link.locator(`option[value="${first.id}"]`).waitFor({ state: 'attached' });
    await link.selectOption(first.id);
    await expectAccessible(page, 'the open-an-incident dialog');
    await dialog.getByRole('button', { name: 'Open incident' }).click();

    // The incident's page, and the same incident in the API.
    await page.getByRole('heading', { name: 'Checkout answers 500', level: 1 }).waitFor();
    const id = new URL(page.url()).pathname.split('/').pop()!;
    const opened = await server.api<Incident>('GET', `/api/incidents/${id}`);
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({
      app: 'shop',
      env: 'qa',
      title: 'Checkout answers 500',
      deploymentId: first.id,
      resolvedAt: null,
    });
    expect(opened.body.openedBy).toContain('token:');
    const timeline = page.getByTestId('incident-timeline');
    await timeline.getByText('Opened').waitFor();
    await timeline.getByText(/^Linked:/).waitFor();
    const linked = timeline.getByRole('link', { name: /deployment of/ }).first();
    expect(await linked.getAttribute('href')).toBe(`/apps/shop/deployments/${first.id}`);

    // A deployment to qa while the incident is open joins the timeline, from the live stream.
    const again = await server.api<Deployment>('POST', '/api/apps/shop/deployments', {
      env: 'qa',
      ref: first.sha,
      force: true,
    });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    await deploymentDone(server, again.body.id);
    await timeline.locator(`a[href="/apps/shop/deployments/${again.body.id}"]`).waitFor();
    await expectAccessible(page, 'the incident page, open');
    await screenshot(page, 'incidents-incident');

    // Resolve: a confirmation first; cancelling changes nothing.
    await page.getByRole('button', { name: /^Resolve/ }).click();
    const confirm = page.getByRole('dialog', { name: 'Resolve this incident?' });
    await confirm.getByText('will be recorded as resolved now').waitFor();
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect((await server.api<Incident>('GET', `/api/incidents/${id}`)).body.resolvedAt).toBeNull();
    await page.getByRole('button', { name: /^Resolve/ }).click();
    await confirm.getByRole('button', { name: 'Resolve incident' }).click();
    await timeline.getByText('Resolved', { exact: true }).waitFor();
    const resolved = await server.api<Incident>('GET', `/api/incidents/${id}`);
    expect(resolved.body.resolvedAt).not.toBeNull();
    expect(await page.getByRole('button', { name: /^Resolve/ }).count()).toBe(0);
    await expectAccessible(page, 'the incident page, resolved');
    await c.close();
  });

  it('lists open incidents first with their app, environment, opener and deployment, and resolves from the list', async () => {
    const ago = (min: number) => new Date(Date.now() - min * 60_000).toISOString();
    const created = await server.api<Incident>('POST', '/api/incidents', {
      app: 'shop',
      env: 'qa',
      title: 'Slow search',
      deploymentId: first.id,
      openedAt: ago(180),
    });
    expect(created.status).toBe(201);
    const newer = await server.api<Incident>('POST', '/api/incidents', {
      app: 'shop',
      env: 'qa',
      title: 'Disk full',
      openedAt: ago(60),
      resolvedAt: ago(30),
    });
    expect(newer.status).toBe(201);
    const c = await signedInConsole(browser, server.url, server.token, '/incidents', {
      viewport: { width: 375, height: 800 },
    });
    const { page } = c;
    const rows = page.locator('table.incidents-table tbody tr');
    await rows.first().waitFor();
    // The open one first, though the resolved one opened later.
    await expect(rows.first().textContent()).resolves.toContain('Slow search');
    await expect(page.getByTestId(`incident-${newer.body.id}`).textContent()).resolves.toContain('resolved');
    const order = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-testid')));
    expect(order.indexOf(`incident-${created.body.id}`)).toBeLessThan(
      order.indexOf(`incident-${newer.body.id}`),
    );
    const row = page.getByTestId(`incident-${created.body.id}`);
    for (const text of ['open', 'shop', 'qa', 'token:'])
      await expect(row.textContent()).resolves.toContain(text);
    expect(await row.getByRole('link', { name: first.id }).getAttribute('href')).toBe(
      `/apps/shop/deployments/${first.id}`,
    );
    await expectAccessible(page, 'the incidents list');
    await expectNoSidewaysScroll(page, 'the incidents list (375 px)');
    await screenshot(page, 'incidents-list');

    await row.getByRole('button', { name: /^Resolve/ }).click();
    await page
      .getByRole('dialog', { name: 'Resolve this incident?' })
      .getByRole('button', { name: 'Resolve incident' })
      .click();
    await row.getByText('resolved').waitFor();
    const after = await server.api<Incident[]>('GET', '/api/incidents?open=true');
    expect(after.body.map((i) => i.id)).not.toContain(created.body.id);
    await c.close();
  });
});
