import type { Unleash } from 'unleash-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp, yamlWithSteps } from '../../support/app-fixture.js';
import { engines } from '../../support/engines.js';
import { cleanupAll } from '../../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { clientToken, eventually, startSdk } from './client-api-fixture.js';

afterAll(cleanupAll);

interface Instance {
  env: string;
  appName: string;
  instanceId: string;
  sdkVersion: string | null;
  tokenName: string | null;
  lastSeenAt: string;
  fetched: { revision: number; etag: string; mode: string; at: string } | null;
  currentRevision: number;
  behind: boolean | null;
}

describe.each(engines)('connected SDK instances on $name', (engine) => {
  let server: TestServer;
  const sdks: Unleash[] = [];
  beforeAll(async () => {
    server = await startTestServer(engine);
    await createApp(server, yamlWithSteps(['true']));
  });
  afterEach(() => {
    for (const s of sdks.splice(0)) s.destroy();
  });
  afterAll(async () => {
    // Destroyed SDKs stop polling, but a request already sent must end before the server closes:
    // cut off, the SDK retries it and its error then has no listener left (an unhandled rejection).
    await new Promise((r) => setTimeout(r, 1000));
    await server.close();
  });

  const put = async (name: string, env: string, state: Record<string, unknown>) => {
    const res = await server.api('PUT', `/api/apps/shop/toggles/${name}/environments/${env}`, state);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };
  const instances = async (env?: string) => {
    await server.gantry.clientApi.metrics.flush();
    await server.gantry.clientApi.fetches.flush();
    const res = await server.api<Instance[]>(
      'GET',
      `/api/apps/shop/client-instances${env ? `?env=${env}` : ''}`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };
  const find = (list: Instance[], id: string) => list.find((c) => c.instanceId === id);

  it('lists who fetched which revision, so instances left on an old one show as behind', async () => {
    await server.api('POST', '/api/apps/shop/toggles', { name: 'seen' });
    await put('seen', 'live', { enabled: false, strategies: [{ name: 'default' }] });
    await put('seen', 'other', { enabled: true, strategies: [{ name: 'default' }] });
    const token = await clientToken(server, 'shop', 'live');

    const poller = await startSdk(server, token, {
      appName: 'web',
      instanceId: 'web-1',
      refreshInterval: 100,
    });
    const delta = await startSdk(server, token, {
      appName: 'worker',
      instanceId: 'worker-1',
      delta: true,
      disableMetrics: true,
      refreshInterval: 100,
    });
    const gone = await startSdk(server, token, {
      appName: 'web',
      instanceId: 'web-old',
      disableMetrics: true,
    });
    sdks.push(poller, delta, gone);
    const other = await startSdk(server, await clientToken(server, 'shop', 'other'), {
      appName: 'web',
      instanceId: 'web-other',
      disableMetrics: true,
    });
    sdks.push(other);

    const first = await instances('live');
    expect(first.map((c) => c.instanceId).sort()).toEqual(['web-1', 'web-old', 'worker-1']);
    const rev = first[0]!.currentRevision;
    expect(find(first, 'worker-1')).toMatchObject({
      env: 'live',
      appName: 'worker',
      sdkVersion: expect.stringMatching(/^unleash-node-sdk:/),
      tokenName: 'client:shop:live',
      fetched: { revision: rev, mode: 'delta', etag: expect.stringContaining(`:${rev}:`) },
      behind: false,
    });
    expect(find(first, 'web-1')).toMatchObject({
      fetched: { revision: rev, mode: 'features' },
      behind: false,
    });
    expect((await instances()).map((c) => c.instanceId)).toContain('web-other');

    // Polls that find nothing new are not written each time: the recorded fetch stays as it was.
    const at = find(first, 'web-1')!.fetched!.at;
    let unchanged = 0;
    poller.on('unchanged', () => unchanged++);
    await eventually(() => unchanged >= 3, 'three 304 polls');
    expect(find(await instances('live'), 'web-1')!.fetched!.at).toBe(at);

    // One instance stops; the others fetch the change and it stays on the old revision.
    gone.destroy();
    await put('seen', 'live', { enabled: true });
    await eventually(
      () => poller.isEnabled('seen') && delta.isEnabled('seen'),
      'the change to reach both SDKs',
    );
    let after: Instance[] = [];
    await eventually(async () => {
      after = await instances('live');
      return (
        find(after, 'web-1')!.fetched!.revision > rev && find(after, 'worker-1')!.fetched!.revision > rev
      );
    }, 'the new revision to be recorded');
    const now = after[0]!.currentRevision;
    expect(find(after, 'web-1')).toMatchObject({ fetched: { revision: now }, behind: false });
    expect(find(after, 'worker-1')).toMatchObject({ fetched: { revision: now }, behind: false });
    expect(find(after, 'web-old')).toMatchObject({ fetched: { revision: rev }, behind: true });
  });
});
