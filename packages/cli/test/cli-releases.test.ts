import type { GantryEvent, Release, Toggle } from '@gantry/contracts';
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
  for (const name of ['search', 'banner', 'legacy'])
    await server.api('POST', '/api/apps/shop/toggles', { name });
});

afterAll(async () => {
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

const later = () => new Date(Date.now() + 3_600_000).toISOString();
const types = async (release: string) =>
  (await server.gantry.events.list({ subject: release })).map((e: GantryEvent) => e.type);

describe('gantry release unschedule, remove and cancel', () => {
  it('unschedules a scheduled release, and refuses to unschedule a draft', async () => {
    await cli.run(['release', 'create', 'spring']);
    await cli.run(['release', 'add', 'spring', 'shop', 'search', 'production', '--enable']);
    const at = later();
    expect((await cli.json<Release>(['release', 'schedule', 'spring', at, '--json'])).status).toBe(
      'scheduled',
    );
    const text = await cli.run(['release', 'unschedule', 'spring']);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      'release spring is a draft again; it will not be applied until you schedule or apply it\n',
    );
    expect(await cli.json<Release>(['release', 'show', 'spring', '--json'])).toMatchObject({
      status: 'draft',
      scheduledAt: null,
    });
    const again = await cli.run(['release', 'unschedule', 'spring']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      'error: release "spring" is a draft; only a scheduled release can be unscheduled\n',
    );
    await cli.run(['release', 'schedule', 'spring', at]);
    expect(await cli.json<Release>(['release', 'unschedule', 'spring', '--json'])).toMatchObject({
      name: 'spring',
      status: 'draft',
    });
    expect(await types('spring')).toEqual([
      'release.created',
      'release.changed',
      'release.scheduled',
      'release.unscheduled',
      'release.scheduled',
      'release.unscheduled',
    ]);
  });

  it('removes a change by its number or by app, toggle and environment', async () => {
    await cli.run(['release', 'create', 'summer']);
    await cli.run(['release', 'add', 'summer', 'shop', 'search', 'production', '--enable']);
    await cli.run(['release', 'add', 'summer', 'shop', 'banner', 'production', '--rollout', '25']);
    await cli.run(['release', 'add', 'summer', 'shop', 'legacy', 'production', '--disable']);
    const shown = await cli.run(['release', 'show', 'summer']);
    expect(shown.stdout).toMatch(/#\s+APP\s+TOGGLE\s+ENV\s+CHANGE/);
    expect(shown.stdout).toMatch(/\n1\s+shop\s+banner\s+production\s+enabled=true rollout=25\n/);

    const byNumber = await cli.run(['release', 'remove', 'summer', '1']);
    expect(byNumber.code).toBe(0);
    expect(byNumber.stdout).toContain('removed change 1 from release summer');
    expect(byNumber.stdout).not.toContain('banner');
    const byName = await cli.json<Release>([
      'release',
      'remove',
      'summer',
      'shop',
      'legacy',
      'production',
      '--json',
    ]);
    expect(byName.changes.map((c) => [c.idx, c.toggle])).toEqual([[0, 'search']]);

    const none = await cli.run(['release', 'remove', 'summer', 'shop', 'legacy', 'production']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('release summer has no change of shop legacy in production');
    const missing = await cli.run(['release', 'remove', 'summer', '7']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('release "summer" has no change 7; its changes are 0');
    const vague = await cli.run(['release', 'remove', 'summer', 'shop', 'legacy']);
    expect(vague.code).toBe(1);
    expect(vague.stderr).toContain('say which change');

    expect((await cli.run(['release', 'apply', 'summer'])).code).toBe(0);
    const applied = await cli.run(['release', 'remove', 'summer', '0']);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toMatch(
      /release "summer" is applied .*; only a draft or scheduled release's changes/,
    );
    const banner = await cli.json<Toggle>(['toggles', 'show', 'banner', '--json']);
    expect(banner.environments.find((e) => e.env === 'production')).toBeUndefined();
    expect((await types('summer')).filter((t) => t === 'release.change_removed')).toHaveLength(2);
  });

  it('cancels a draft or scheduled release, never an applied one', async () => {
    await cli.run(['release', 'create', 'autumn']);
    await cli.run(['release', 'add', 'autumn', 'shop', 'search', 'staging', '--enable']);
    await cli.run(['release', 'schedule', 'autumn', later()]);
    const cancelled = await cli.run(['release', 'cancel', 'autumn']);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toBe('cancelled release autumn; nothing of it was applied\n');
    expect((await cli.run(['release', 'list'])).stdout).toMatch(/autumn\s+cancelled\s+1/);
    const apply = await cli.run(['release', 'apply', 'autumn']);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toBe(
      'error: release "autumn" is cancelled; only a draft or scheduled release can be applied, once\n',
    );
    const search = await cli.json<Toggle>(['toggles', 'show', 'search', '--json']);
    expect(search.environments.find((e) => e.env === 'staging')).toBeUndefined();

    await cli.run(['release', 'create', 'winter']);
    await cli.run(['release', 'add', 'winter', 'shop', 'search', 'staging', '--enable']);
    await cli.run(['release', 'apply', 'winter']);
    const refused = await cli.run(['release', 'cancel', 'winter', '--json']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('(revert an applied one)');
    expect(
      await cli.json<Release>(['release', 'cancel', 'autumn', '--json']).catch((e: Error) => e.message),
    ).toContain('is cancelled; only a draft, scheduled or failed release can be cancelled');
    expect(await types('autumn')).toContain('release.cancelled');
  });
});
