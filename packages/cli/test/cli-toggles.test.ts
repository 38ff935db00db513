import type { Release, Toggle } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, yamlWithSteps } from '../../server/test/support/app-fixture.js';
import { cleanupAll } from '../../server/test/support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { type CliSandbox, makeCliSandbox } from './support/run-cli.js';

let server: TestServer;
let cli: CliSandbox;

beforeAll(async () => {
  server = await startTestServer();
  await createApp(server, yamlWithSteps(['true']));
  cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
});

afterAll(async () => {
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

describe('gantry toggles and gantry release', () => {
  it('creates, enables, rolls out, copies with a diff first, and lists', async () => {
    expect((await cli.run(['toggles', 'create', 'search', '--owner', 'ann'])).code).toBe(0);
    expect((await cli.run(['toggles', 'enable', 'search', 'staging'])).stdout).toContain(
      'search in staging: on (all)',
    );
    expect((await cli.run(['toggles', 'rollout', 'search', 'staging', '30%'])).stdout).toContain('on 30%');
    const bad = await cli.run(['toggles', 'rollout', 'search', 'staging', '130']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('from 0 to 100');

    const preview = await cli.run(['toggles', 'copy', 'search', '--from', 'staging', '--to', 'production']);
    expect(preview.code).toBe(0);
    expect(preview.stdout).toContain('enabled:\n  - production: false\n  + staging: true');
    expect(preview.stdout).toContain('preview only');
    const untouched = await cli.json<Toggle>(['toggles', 'show', 'search', '--json']);
    expect(untouched.environments.map((e) => e.env)).toEqual(['staging']);
    expect(
      (await cli.run(['toggles', 'copy', 'search', '--from', 'staging', '--to', 'production', '--yes'])).code,
    ).toBe(0);
    const copied = await cli.json<Toggle>(['toggles', 'show', 'search', '--json']);
    expect(copied.environments.find((e) => e.env === 'production')?.strategies).toEqual(
      copied.environments.find((e) => e.env === 'staging')?.strategies,
    );

    const table = await cli.run(['toggles', 'list']);
    expect(table.stdout).toMatch(/^NAME\s+TYPE\s+OWNER\s+CREATED\s+PRODUCTION\s+STAGING/);
    expect(table.stdout).toMatch(/search\s+release\s+ann\s+.*on 30%\s+on 30%/);
  });

  it('bundles toggle changes into a release, applies and reverts it', async () => {
    await cli.run(['toggles', 'create', 'banner']);
    expect(
      (await cli.run(['release', 'create', 'winter', '--notes', 'Banner and search for all'])).code,
    ).toBe(0);
    await cli.run(['release', 'add', 'winter', 'shop', 'banner', 'production', '--enable']);
    await cli.run(['release', 'add', 'winter', 'shop', 'search', 'production', '--rollout', '100']);
    const missing = await cli.run(['release', 'add', 'winter', 'shop', 'ghost', 'production', '--enable']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no toggle "ghost"');
    const shown = await cli.json<Release>(['release', 'show', 'winter', '--json']);
    expect(shown.changes.map((c) => [c.toggle, c.change])).toEqual([
      ['banner', { enabled: true }],
      ['search', { rollout: 100, enabled: true }],
    ]);
    expect((await cli.run(['release', 'apply', 'winter'])).stdout).toContain('2 changes in one revision');
    const banner = await cli.json<Toggle>(['toggles', 'show', 'banner', '--json']);
    expect(banner.environments.find((e) => e.env === 'production')?.enabled).toBe(true);
    expect((await cli.run(['release', 'revert', 'winter'])).code).toBe(0);
    const after = await cli.json<Toggle>(['toggles', 'show', 'banner', '--json']);
    expect(after.environments.find((e) => e.env === 'production')?.enabled).toBe(false);
    const search = await cli.json<Toggle>(['toggles', 'show', 'search', '--json']);
    expect(search.environments.find((e) => e.env === 'production')?.strategies[0]?.parameters.rollout).toBe(
      '30',
    );
  });

  it('lists toggles fully on in production for longer than N days as stale', async () => {
    const none = await cli.json<unknown[]>(['toggles', 'stale', '--days', '0', '--json']);
    expect(none).toEqual([]);
    await cli.run(['toggles', 'create', 'old-flag']);
    await cli.run(['toggles', 'enable', 'old-flag', 'production']);
    await new Promise((r) => setTimeout(r, 20));
    const stale = await cli.json<{ name: string; reason: string }[]>([
      'toggles',
      'stale',
      '--days',
      '0',
      '--json',
    ]);
    expect(stale).toEqual([expect.objectContaining({ name: 'old-flag', reason: 'fully-on' })]);
    expect(await cli.json<unknown[]>(['toggles', 'stale', '--days', '30', '--json'])).toEqual([]);
  });
});
