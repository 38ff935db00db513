import type { Unleash } from 'unleash-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, yamlWithSteps } from '../../server/test/support/app-fixture.js';
import { cleanupAll } from '../../server/test/support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { clientToken, startSdk } from '../../server/test/toggles/client-api/client-api-fixture.js';
import { type CliSandbox, makeCliSandbox } from './support/run-cli.js';

let server: TestServer;
let cli: CliSandbox;
const sdks: Unleash[] = [];

beforeAll(async () => {
  server = await startTestServer();
  await createApp(server, yamlWithSteps(['true']));
  cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
});

afterAll(async () => {
  for (const s of sdks) s.destroy();
  // A request the SDK already sent must end before the server closes (see unleash-delta.test.ts).
  await new Promise((r) => setTimeout(r, 1000));
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

describe('gantry toggles clients', () => {
  it('lists the SDK instances that connected and the revision each last fetched', async () => {
    expect((await cli.run(['toggles', 'clients'])).stdout).toContain('no SDK has connected to shop yet');
    await cli.run(['toggles', 'create', 'hello']);
    await cli.run(['toggles', 'enable', 'hello', 'qa']);
    const qa = await startSdk(server, await clientToken(server, 'shop', 'qa'), {
      appName: 'checkout',
      instanceId: 'pod-7',
      delta: true,
      disableMetrics: true,
    });
    sdks.push(qa);
    await startSdk(server, await clientToken(server, 'shop', 'production'), {
      appName: 'checkout',
      instanceId: 'pod-9',
      disableMetrics: true,
    }).then((s) => sdks.push(s));
    await server.gantry.clientApi.fetches.flush();

    type Row = {
      env: string;
      instanceId: string;
      fetched: { revision: number; mode: string };
      behind: boolean;
    };
    const all = await cli.json<Row[]>(['toggles', 'clients', '--json']);
    expect(all.map((c) => [c.env, c.instanceId]).sort()).toEqual([
      ['production', 'pod-9'],
      ['qa', 'pod-7'],
    ]);
    const rows = await cli.json<Row[]>(['toggles', 'clients', '--env', 'qa', '--json']);
    expect(rows).toEqual([
      expect.objectContaining({
        instanceId: 'pod-7',
        fetched: expect.objectContaining({ mode: 'delta' }),
        behind: false,
      }),
    ]);

    const text = await cli.run(['toggles', 'clients', '--env', 'qa']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ENV\s+APP-NAME\s+INSTANCE\s+SDK\s+TOKEN\s+LAST-SEEN\s+REVISION\s+VIA/);
    expect(text.stdout).toMatch(
      new RegExp(
        `qa\\s+checkout\\s+pod-7\\s+unleash-node-sdk:\\S+\\s+client:shop:qa\\s+.+\\s+${rows[0]!.fetched.revision} \\(current\\)\\s+delta`,
      ),
    );
    expect(text.stdout).not.toContain('pod-9');

    // The instance stops; a change later it shows as behind.
    qa.destroy();
    await cli.run(['toggles', 'disable', 'hello', 'qa']);
    const behind = await cli.run(['toggles', 'clients', '--env', 'qa']);
    expect(behind.stdout).toMatch(
      new RegExp(`${rows[0]!.fetched.revision} \\(behind ${rows[0]!.fetched.revision + 1}\\)`),
    );
  });
});
