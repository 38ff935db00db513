import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../server/test/support/app-fixture.js';
import {
  deployedTo,
  deploymentDone,
  deployYaml,
  envPorts,
  SERVER_JS,
} from '../../../server/test/support/deploy-fixture.js';
import { cleanupAll } from '../../../server/test/support/git-fixtures.js';
import type { TestServer } from '../../../server/test/support/test-server.js';
import {
  CHROMIUM,
  consoleServer,
  expectAccessible,
  expectNoSidewaysScroll,
  launchBrowser,
  openConsole,
  screenshot,
  signedInConsole,
  signInWithPassword,
} from './support/console-browser.js';

let browser: Browser;
let server: TestServer;
let v1: string;
const PASSWORD = 'correct horse battery';

/** A person's console session from outside the browser (as the CLI or a script would use it). */
async function personSession(login: string, password = PASSWORD) {
  const res = await fetch(`${server.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, password }),
  });
  expect(res.status).toBe(201);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0] ?? '')
    .find((c) => c.startsWith('gantry_session='));
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return {
    cookie: cookie ?? '',
    async call<T>(method: string, path: string, body?: unknown) {
      const r = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          cookie: cookie ?? '',
          'x-csrf-token': csrfToken,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      return { status: r.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
  };
}

beforeAll(async () => {
  if (!CHROMIUM) return;
  browser = await launchBrowser();
  server = await consoleServer();
  // production asks for two approvals from the ops group.
  const yaml = deployYaml(await envPorts()).replace(
    /(production: \{ promote_from: staging, protected: true, port: \d+)/,
    '$1, approvals: { required: 2, from: ["group:ops"] }',
  );
  expect(yaml).toContain('approvals: { required: 2');
  const app = await createApp(server, yaml, { register: false });
  await app.pushFiles({ 'server.js': SERVER_JS, VERSION: 'v1' }, 'v1');
  const added = await server.api<{ headSha: string }>('POST', '/api/apps', {
    name: 'shop',
    repoUrl: app.bare.dir,
  });
  expect(added.status).toBe(201);
  v1 = added.body.headSha;
  for (const login of ['alice', 'bob', 'carol']) {
    const u = await server.api('POST', '/api/users', { login, password: PASSWORD, groups: ['ops'] });
    expect(u.status).toBe(201);
  }
  for (const binding of [
    { subject: 'group:ops', role: 'deployer', app: 'shop', env: 'production' },
    { subject: 'group:ops', role: 'viewer', app: 'shop' },
  ]) {
    expect((await server.api('POST', '/api/role-bindings', binding)).status).toBe(201);
  }
  await deployedTo(server, 'qa', v1);
  const staging = await server.api('POST', '/api/apps/shop/deployments', { env: 'staging', ref: v1 });
  expect(staging.status).toBe(201);
  await deployedTo(server, 'staging', v1);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await cleanupAll();
});

describe.runIf(CHROMIUM)('sign-in with a password, approvals and sign out everywhere', () => {
  it('waits for two of group:ops, refuses the requester, deploys after the console and the API approve', async () => {
    const a = await openConsole(browser, server.url);
    const alicePage = a.page;
    // A wrong password is refused with the server's words; then alice signs in.
    await alicePage.getByLabel('Login', { exact: true }).fill('alice');
    await alicePage.getByLabel('Password', { exact: true }).fill('not her password');
    await alicePage.getByRole('button', { name: 'Sign in', exact: true }).click();
    await alicePage.getByRole('alert').filter({ hasText: 'wrong login or password' }).waitFor();
    await signInWithPassword(alicePage, 'alice', PASSWORD);
    const account = alicePage.getByTestId('account');
    expect(await account.locator('summary').textContent()).toContain('alice (person)');
    await account.locator('summary').click();
    expect(await account.getByTestId('account-groups').textContent()).toBe('Groups: ops');
    expect(await account.textContent()).toContain('deployer on shop production');
    await account.locator('summary').click();

    // alice asks for production: it waits for approval.
    const alice = await personSession('alice');
    const asked = await alice.call<{ id: string; status: string }>('POST', '/api/apps/shop/deployments', {
      env: 'production',
      ref: v1,
      reason: 'ship v1',
      confirm: true,
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    expect(asked.body.status).toBe('awaiting_approval');
    const id = asked.body.id;
    const digest = (await server.api<{ digest: string }>('GET', `/api/deployments/${id}`)).body.digest;

    // The board says what it waits for.
    const awaiting = alicePage.getByTestId(`awaiting-${id}`);
    await awaiting.waitFor();
    expect(await awaiting.textContent()).toContain('0 of 2 approvals');
    await screenshot(alicePage, 'approvals-board');

    // The Approvals page, from the navigation: the request, its digest; alice's own approval is refused.
    await alicePage
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Approvals' })
      .click();
    const card = alicePage.getByTestId(`approval-${id}`);
    await card.waitFor();
    expect(await card.getByTestId('approval-digest').textContent()).toBe(digest);
    expect(await card.textContent()).toContain('group:ops');
    await card.getByRole('button', { name: /^Reject/ }).click();
    expect(await card.getByTestId('decision-problem').textContent()).toBe(
      'A rejection needs a comment saying why.',
    );
    await card.getByRole('button', { name: /^Approve/ }).click();
    await card.getByTestId('decision-problem').filter({ hasText: 'may not approve it' }).waitFor();
    expect(await card.getByTestId('decision-problem').textContent()).toMatch(
      /^Refused: user:alice asked for deployment .+ and may not approve it/,
    );
    await expectAccessible(alicePage, 'the approvals page');
    await screenshot(alicePage, 'approvals-list');
    await alicePage.setViewportSize({ width: 375, height: 800 });
    await expectNoSidewaysScroll(alicePage, 'the approvals page at 375 px');
    await alicePage.setViewportSize({ width: 1280, height: 800 });

    // bob approves from the console, on the deployment page.
    const b = await openConsole(browser, server.url);
    await signInWithPassword(b.page, 'bob', PASSWORD);
    await b.page.goto(`${server.url}/apps/shop/deployments/${id}`);
    const section = b.page.getByTestId('approval-section');
    await section.getByLabel(/^Comment/).fill('checked the diff');
    await section.getByRole('button', { name: /^Approve/ }).click();
    await section.getByRole('status').filter({ hasText: 'You approved it: 1 of 2 approvals.' }).waitFor();
    expect(await section.getByRole('list', { name: 'Decisions' }).textContent()).toContain(
      'user:bob approved: “checked the diff”',
    );
    await expectAccessible(b.page, 'the deployment page awaiting approval');
    await screenshot(b.page, 'approvals-deployment');

    // carol approves from the API: the second approval releases it, and it deploys.
    const carol = await personSession('carol');
    const approved = await carol.call<{ approved: number; status: string }>(
      'POST',
      `/api/deployments/${id}/approve`,
      { comment: 'ok', digest },
    );
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ approved: 2 });
    expect((await deploymentDone(server, id)).status).toBe('succeeded');
    await b.page.getByRole('heading', { level: 1 }).getByText('succeeded').waitFor();
    expect(await section.getByTestId('approval-progress').textContent()).toContain('2 of 2 approvals');
    await b.close();

    // alice signs out everywhere: the console and her other session end on the server.
    await alicePage.getByTestId('account').locator('summary').click();
    await alicePage.getByRole('button', { name: 'Sign out everywhere' }).click();
    await alicePage.getByLabel('API token').waitFor();
    expect((await alice.call('GET', '/api/session')).status).toBe(401);
    const cookie = (await a.context.cookies()).find((k) => k.name === 'gantry_session');
    expect(cookie).toBeUndefined();
    await a.close();
  });

  it('an admin adds a person and binds a role; a person makes a token, shown once', async () => {
    const c = await signedInConsole(browser, server.url, server.token, '/people');
    const { page } = c;
    const people = page.getByTestId('people');
    await people.getByRole('row', { name: /alice/ }).waitFor();
    expect(await people.getByRole('row', { name: /alice/ }).textContent()).toContain(
      'deployer on shop production (through group:ops)',
    );
    await page.getByLabel('Login', { exact: true }).fill('dave');
    await page.getByLabel(/^Password/).fill(PASSWORD);
    await page.getByLabel(/^Groups/).fill('release-leads');
    await page.getByRole('button', { name: 'Add person' }).click();
    await page.getByRole('status').filter({ hasText: 'Added dave in release-leads.' }).waitFor();
    await page.getByLabel(/^To/).fill('group:release-leads');
    await page.getByLabel('Role', { exact: true }).selectOption('release-manager');
    await page.getByLabel(/^App/).fill('shop');
    await page.getByRole('button', { name: 'Bind role' }).click();
    await people
      .getByRole('row', { name: /dave/ })
      .getByText('release-manager on every environment of shop')
      .waitFor();
    await expectAccessible(page, 'the people page');
    await screenshot(page, 'access-people');
    const unbind = page.getByRole('button', {
      name: 'Unbind release-manager on every environment of shop from group:release-leads',
    });
    await unbind.click();
    await unbind.waitFor({ state: 'detached' });
    await c.close();

    const d = await openConsole(browser, server.url, {
      viewport: { width: 375, height: 800 },
      colorScheme: 'dark',
    });
    await signInWithPassword(d.page, 'bob', PASSWORD);
    await d.page.goto(`${server.url}/tokens`);
    await d.page.getByLabel('Name', { exact: true }).fill('laptop');
    await d.page.getByRole('button', { name: 'Create token' }).click();
    const shown = d.page.getByTestId('new-token');
    await shown.waitFor();
    const token = (await shown.locator('code').textContent()) ?? '';
    expect(token.length).toBeGreaterThan(20);
    const row = d.page.getByRole('table', { name: 'Your tokens' }).getByRole('row', { name: /laptop/ });
    await row.waitFor();
    expect(await row.textContent()).toContain('never');
    const whoami = await fetch(`${server.url}/api/whoami`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await whoami.json()) as { name: string }).name).toBe('bob');
    await expectAccessible(d.page, 'the tokens page (dark, 375 px)');
    await expectNoSidewaysScroll(d.page, 'the tokens page (dark, 375 px)');
    await screenshot(d.page, 'access-tokens-dark-375');
    await row.getByRole('button', { name: 'Revoke laptop' }).click();
    await row.getByText('revoked').waitFor();
    expect(
      (await fetch(`${server.url}/api/whoami`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(401);
    await d.close();
  });
});
