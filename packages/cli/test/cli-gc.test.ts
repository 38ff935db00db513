import type { RetentionReport } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, finishedBuild, yamlWithSteps } from '../../server/test/support/app-fixture.js';
import { cleanupAll } from '../../server/test/support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { type CliSandbox, makeCliSandbox } from './support/run-cli.js';

let server: TestServer;
let cli: CliSandbox;
let first: string;
let second: string;

beforeAll(async () => {
  server = await startTestServer({ name: 'sqlite' }, { artifactsGc: false });
  cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
  const app = await createApp(server, yamlWithSteps(['true']));
  first = (await finishedBuild(server, app.buildIds[0]!)).sha;
  second = await app.pushFiles({ 'README.md': 'two' }, 'two');
  const sync = await server.api<{ buildIds: string[] }>('POST', '/api/apps/shop/sync');
  expect((await finishedBuild(server, sync.body.buildIds[0]!)).status).toBe('succeeded');
});

afterAll(async () => {
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

describe('gantry gc', () => {
  it('says what it would collect and why each artifact stays, collects with --keep/--max-age, and prints JSON', async () => {
    const dry = await cli.run(['gc', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('policy: the 10 newest artifacts of each app and any younger than 14d');
    expect(dry.stdout).toMatch(
      new RegExp(
        `keep art_\\S+ shop ${second.slice(0, 10)} tarball .*\\n    among the 10 newest of shop \\(#1\\); younger than 14d`,
      ),
    );
    expect(dry.stdout).toContain('dry run: 0 artifacts (0 B) would be collected, 2 kept');

    const json = await cli.json<RetentionReport>(['gc', '--keep', '1', '--max-age', '0s', '--json']);
    expect(json.dryRun).toBe(false);
    expect(json.collected.map((c) => [c.artifact.sha, c.storage])).toEqual([[first, 'deleted']]);
    expect(json.kept.map((k) => k.artifact.sha)).toEqual([second]);

    const text = await cli.run(['gc', '--keep', '0', '--max-age', '0s']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^collected art_\\S+ shop ${second.slice(0, 10)} tarball `, 'm'));
    expect(text.stdout).toContain('not among the 0 newest of shop (#1); built ');
    expect(text.stdout).toMatch(/1 artifact collected, \d+(\.\d)? (B|KiB) freed, 0 kept\n$/);

    const badKeep = await cli.run(['gc', '--keep', 'two']);
    expect(badKeep.code).toBe(1);
    expect(badKeep.stderr).toContain('--keep two: expected a whole number ≥ 0');
    const badAge = await cli.run(['gc', '--max-age', 'forever']);
    expect(badAge.code).toBe(1);
    expect(badAge.stderr).toContain('expected a whole number and a unit (s, m, h, d), e.g. 14d');
  });
});
