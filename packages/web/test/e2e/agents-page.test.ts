import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, spawnAgent } from '../../../server/test/agents/agent-fixture.js';
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

let browser: Browser;
let server: TestServer;
let agent: AgentProcess | undefined;

beforeAll(async () => {
  if (!CHROMIUM) return;
  browser = await launchBrowser();
  server = await consoleServer({ name: 'sqlite' }, { staleAfterMs: 3_000 });
}, 120_000);

afterAll(async () => {
  agent?.child.kill('SIGKILL');
  await agent?.exited;
  await browser?.close();
  await server?.close();
  await cleanupAll();
});

describe.runIf(CHROMIUM)('the Agents page in Chromium', () => {
  it('creates an agent token shown once with its command, shows the agent connected with its hosts, and revokes it', async () => {
    const { page, context } = await signedInConsole(browser, server.url, server.token, '/agents');
    try {
      await page.getByRole('heading', { name: 'Agents', level: 1 }).waitFor();
      await page.getByText('No agent yet').waitFor();
      await expect(page.getByRole('link', { name: 'Agents' }).getAttribute('aria-current')).resolves.toBe(
        'page',
      );

      await page.getByLabel(/^Labels/).fill('web-7, linux');
      await page.getByLabel(/^Name/).fill('edge');
      await page.getByRole('button', { name: 'Create agent token' }).click();
      const notice = page.getByTestId('new-agent-token');
      await notice.waitFor();
      const command = (await notice.locator('code').textContent()) ?? '';
      const m = /^gantry agent --server (\S+) --token (\S+) --labels (\S+)$/.exec(command);
      expect(m, command).not.toBeNull();
      expect(m![1]).toBe(server.url);
      expect(m![3]).toBe('web-7,linux');

      // The token works: a real agent with it shows as connected, holding its labels as hosts.
      agent = await spawnAgent(server.url, m![2]!, []);
      const row = page.getByRole('row', { name: /edge/ });
      await row.getByText('connected').waitFor({ timeout: 20_000 });
      await expect(row.getByRole('cell').nth(2).textContent()).resolves.toBe('linux, web-7');
      await expectAccessible(page, 'the Agents page');
      await expectNoSidewaysScroll(page, 'the Agents page');
      await screenshot(page, 'agents');

      // Revoked from the page: the agent is refused and stops.
      await row.getByRole('button', { name: 'Revoke edge' }).click();
      await row.getByText('revoked').waitFor();
      await agent.exited;
      expect(agent.output()).toMatch(/refused the agent token/);
      const { body } = await server.api<{ name: string; revokedAt: string | null }[]>('GET', '/api/agents');
      expect(body.find((a) => a.name === 'edge')?.revokedAt).not.toBeNull();
    } finally {
      await context.close();
    }
  });
});
