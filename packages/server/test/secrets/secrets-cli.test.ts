import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GantryEvent, KeyRotation, Secret } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI_BIN,
  type CliResult,
  type CliSandbox,
  cliEnv,
  makeCliSandbox,
} from '../../../cli/test/support/run-cli.js';
import { createApp, yamlWithSteps } from '../support/app-fixture.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

let server: TestServer;
let cli: CliSandbox;

beforeAll(async () => {
  server = await startTestServer({ name: 'sqlite' });
  cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
});

afterAll(async () => {
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

/** `gantry …` with `input` piped to its stdin. */
function withStdin(args: string[], input: string): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    cwd: cli.cwd,
    env: cliEnv({ XDG_CONFIG_HOME: cli.xdg, GANTRY_URL: server.url, GANTRY_TOKEN: server.token }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('gantry secrets', () => {
  it('sets from --value, a file or stdin, lists without values, removes and rotates the key', async () => {
    await createApp(server, yamlWithSteps(['true']));
    const set = await cli.run(['secrets', 'set', 'API_TOKEN', '--value', 'from-the-flag']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe(
      'set API_TOKEN for shop (app-wide); it reaches a build or release only where gantry.yaml lists it (build.secrets, environments.<env>.secrets)\n',
    );
    const file = join(cli.cwd, 'db-url');
    await writeFile(file, 'postgres://u:p4ss@db/shop\n');
    const fromFile = await cli.run(['secrets', 'set', 'DATABASE_URL', '--env', 'qa', '--from-file', file]);
    expect(fromFile.stdout).toMatch(/^set DATABASE_URL for shop\/qa;/);
    const piped = await withStdin(['secrets', 'set', 'API_TOKEN', '--app', 'shop'], 'from-stdin-1\n');
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toMatch(/^updated API_TOKEN for shop \(app-wide\);/);
    const key = '-----BEGIN KEY-----\nline-one\nline-two\n-----END KEY-----\n';
    expect((await withStdin(['secrets', 'set', 'SIGNING_KEY'], key)).code).toBe(0);

    const app = await server.gantry.apps.get('shop');
    expect(
      await server.gantry.secrets.secretsFor(app, 'qa', ['API_TOKEN', 'DATABASE_URL', 'SIGNING_KEY']),
    ).toEqual({
      API_TOKEN: 'from-stdin-1',
      DATABASE_URL: 'postgres://u:p4ss@db/shop',
      SIGNING_KEY: key.slice(0, -1),
    });

    const listed = await cli.run(['secrets', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ENV\s+UPDATED\s+BY$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([
      ['API_TOKEN', '(all)'],
      ['DATABASE_URL', 'qa'],
      ['SIGNING_KEY', '(all)'],
    ]);
    expect(lines[1]).toMatch(/\d{4}-\d\d-\d\dT.*token:admin$/);
    const json = await cli.json<Secret[]>(['secrets', 'list', '--json']);
    expect(json.map((s) => [s.name, s.env, s.updatedBy])).toEqual([
      ['API_TOKEN', null, 'token:admin'],
      ['DATABASE_URL', 'qa', 'token:admin'],
      ['SIGNING_KEY', null, 'token:admin'],
    ]);
    const everything = `${listed.stdout}${JSON.stringify(json)}`;
    for (const value of ['from-stdin-1', 'from-the-flag', 'p4ss', 'line-one'])
      expect(everything).not.toContain(value);

    // Bad input: a name that is no variable name, an empty value, both sources.
    const bad = await cli.run(['secrets', 'set', 'API-TOKEN', '--value', 'long-enough']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('"API-TOKEN" is not a valid secret name');
    const empty = await withStdin(['secrets', 'set', 'EMPTY_ONE'], '');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('no value for EMPTY_ONE: give --value, --from-file <path>, or pipe it in');
    const both = await cli.run(['secrets', 'set', 'X_Y', '--value', 'abcd', '--from-file', file]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('give --value or --from-file, not both');

    const rm = await cli.run(['secrets', 'rm', 'DATABASE_URL', '--env', 'qa']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toBe('removed DATABASE_URL of shop/qa\n');
    const again = await cli.run(['secrets', 'rm', 'DATABASE_URL', '--env', 'qa']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('shop has no secret DATABASE_URL for qa');

    const rotated = await cli.run(['secrets', 'rotate-key']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(
      /^every secret is sealed with key k[0-9a-f]{16} \(2 re-encrypted; retired k[0-9a-f]{16}\)\n$/,
    );
    const json2 = await cli.json<KeyRotation>(['secrets', 'rotate-key', '--json']);
    expect(json2).toMatchObject({ reencrypted: 2, resumed: false });
    expect(await server.gantry.secrets.secretsFor(app, null, ['API_TOKEN'])).toEqual({
      API_TOKEN: 'from-stdin-1',
    });

    // Neither the events nor the audit log hold a value.
    const events = (await server.api<GantryEvent[]>('GET', '/api/events?limit=1000')).body;
    const audit = (await server.api<unknown>('GET', '/api/audit?limit=1000')).body;
    for (const text of [JSON.stringify(events), JSON.stringify(audit)])
      for (const value of ['from-stdin-1', 'from-the-flag', 'p4ss', 'line-one'])
        expect(text).not.toContain(value);
    expect(JSON.stringify(audit)).toContain('/api/apps/:app/secrets/:name');
  });
});
