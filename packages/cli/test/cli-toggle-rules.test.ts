import type { Segment, Toggle } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, yamlWithSteps } from '../../server/test/support/app-fixture.js';
import { cleanupAll } from '../../server/test/support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { type CliSandbox, freePort, makeCliSandbox } from './support/run-cli.js';

let server: TestServer;
let cli: CliSandbox;

beforeAll(async () => {
  server = await startTestServer();
  // Declared along the promotion path, which is not alphabetical.
  const envs = `environments:\n  qa: { port: ${await freePort()} }\n  staging: { promote_from: qa, port: ${await freePort()} }\n  production: { promote_from: staging, port: ${await freePort()} }\n`;
  await createApp(server, yamlWithSteps(['true'], envs));
  cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
});

afterAll(async () => {
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

const state = (t: Toggle, env: string) => t.environments.find((e) => e.env === env);

describe('toggle rules from the CLI', () => {
  it('lists every environment in promotion order, untouched ones as off, with one word for on-for-all', async () => {
    expect((await cli.run(['toggles', 'create', 'hello'])).code).toBe(0);
    const before = await cli.run(['toggles', 'list']);
    expect(before.stdout).toMatch(/^NAME\s+TYPE\s+OWNER\s+CREATED\s+QA\s+STAGING\s+PRODUCTION\n/);
    expect(before.stdout).toMatch(/hello\s+release\s+.*\s+off\s+off\s+off\n/);

    expect((await cli.run(['toggles', 'enable', 'hello', 'qa'])).stdout).toContain('hello in qa: on (all)');
    const list = await cli.run(['toggles', 'list']);
    expect(list.stdout).toMatch(/hello\s+release\s+.*\s+on \(all\)\s+off\s+off\n/);
    expect((await cli.run(['toggles', 'show', 'hello'])).stdout).toContain('qa: on (all)');
    expect(list.stdout + (await cli.run(['toggles', 'show', 'hello'])).stdout).not.toContain('(default)');
  });

  it('creates segments and adds strategies with constraints and segments, lists and removes them', async () => {
    const created = await cli.run([
      'toggles',
      'segment',
      'create',
      'nordics',
      '--constraint',
      'country IN NO,SE,DK',
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('segment nordics');
    const again = await cli.run(['toggles', 'segment', 'create', 'nordics', '--constraint', 'country IN NO']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('--replace');
    const segments = await cli.json<Segment[]>(['toggles', 'segment', 'list', '--json']);
    expect(segments).toEqual([
      expect.objectContaining({
        name: 'nordics',
        constraints: [{ contextName: 'country', operator: 'IN', values: ['NO', 'SE', 'DK'] }],
      }),
    ]);
    expect((await cli.run(['toggles', 'segment', 'list'])).stdout).toMatch(/nordics\s+country IN NO,SE,DK/);

    const added = await cli.json<Toggle>([
      'toggles',
      'strategy',
      'add',
      'hello',
      '--env',
      'staging',
      '--rollout',
      '50',
      '--constraint',
      'userId IN a,b',
      '--constraint',
      'appVersion SEMVER_GT 2.0.0',
      '--segment',
      'nordics',
      '--json',
    ]);
    expect(state(added, 'staging')?.strategies).toEqual([
      {
        name: 'flexibleRollout',
        parameters: { rollout: '50', stickiness: 'default', groupId: 'hello' },
        constraints: [
          { contextName: 'userId', operator: 'IN', values: ['a', 'b'] },
          { contextName: 'appVersion', operator: 'SEMVER_GT', value: '2.0.0' },
        ],
        segments: [segments[0]!.id],
      },
    ]);
    const second = await cli.run([
      'toggles',
      'strategy',
      'add',
      'hello',
      '--env',
      'staging',
      '--constraint',
      'email NOT STR_ENDS_WITH/i @acme.com',
    ]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('2. default where email NOT STR_ENDS_WITH/i @acme.com');
    expect(second.stdout).toContain('(off in staging');
    const listed = await cli.run(['toggles', 'strategy', 'list', 'hello', '--env', 'staging']);
    expect(listed.stdout).toContain(
      '1. flexibleRollout rollout=50 stickiness=default groupId=hello where userId IN a,b and appVersion SEMVER_GT 2.0.0 and segment',
    );
    expect((await cli.run(['toggles', 'show', 'hello'])).stdout).toContain('and segment nordics');
    await cli.run(['toggles', 'enable', 'hello', 'staging']);
    expect((await cli.run(['toggles', 'list'])).stdout).toMatch(
      /hello\s+.*on \(all\)\s+on \(50% targeted, targeted\)\s+off\n/,
    );

    const bad = await cli.run([
      'toggles',
      'strategy',
      'add',
      'hello',
      '--env',
      'staging',
      '--constraint',
      'userId EQUALS x',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown operator EQUALS');
    expect(
      (await cli.run(['toggles', 'strategy', 'remove', 'hello', '5', '--env', 'staging'])).stderr,
    ).toContain('has 2 strategies in staging');
    const removed = await cli.json<Toggle>([
      'toggles',
      'strategy',
      'remove',
      'hello',
      '1',
      '--env',
      'staging',
      '--json',
    ]);
    expect(state(removed, 'staging')?.strategies).toEqual([
      {
        name: 'default',
        parameters: {},
        constraints: [
          {
            contextName: 'email',
            operator: 'STR_ENDS_WITH',
            values: ['@acme.com'],
            caseInsensitive: true,
            inverted: true,
          },
        ],
      },
    ]);
  });

  it('sets and clears variants with shares and payloads', async () => {
    const set = await cli.json<Toggle>([
      'toggles',
      'variants',
      'set',
      'hello',
      '--env',
      'qa',
      '--variant',
      'blue:30:json:{"color":"#00f"}',
      '--variant',
      'red',
      '--variant',
      'green',
      '--json',
    ]);
    expect(state(set, 'qa')?.variants).toEqual([
      {
        name: 'blue',
        weight: 300,
        weightType: 'variable',
        stickiness: 'default',
        payload: { type: 'json', value: '{"color":"#00f"}' },
      },
      { name: 'red', weight: 350, weightType: 'variable', stickiness: 'default' },
      { name: 'green', weight: 350, weightType: 'variable', stickiness: 'default' },
    ]);
    expect((await cli.run(['toggles', 'show', 'hello'])).stdout).toContain(
      'variant blue 30% json {"color":"#00f"}',
    );
    const over = await cli.run([
      'toggles',
      'variants',
      'set',
      'hello',
      '--env',
      'qa',
      '--variant',
      'a:60',
      '--variant',
      'b:60',
    ]);
    expect(over.code).toBe(1);
    expect(over.stderr).toContain('more than 100%');
    const short = await cli.run([
      'toggles',
      'variants',
      'set',
      'hello',
      '--env',
      'qa',
      '--variant',
      'a:60',
      '--variant',
      'b:30',
    ]);
    expect(short.stderr).toContain('not 100%');
    const cleared = await cli.json<Toggle>([
      'toggles',
      'variants',
      'clear',
      'hello',
      '--env',
      'qa',
      '--json',
    ]);
    expect(state(cleared, 'qa')?.variants).toEqual([]);
  });
});
