import type { Unleash } from 'unleash-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeltaAnswer } from '../../../src/features/toggles/client-api/client-delta-cache.js';
import { createApp, yamlWithSteps } from '../../support/app-fixture.js';
import { engines } from '../../support/engines.js';
import { cleanupAll } from '../../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { clientToken, eventually, sdkFetch, startSdk } from './client-api-fixture.js';

afterAll(cleanupAll);

type Event = { type: string; eventId: number; [k: string]: unknown };

describe.each(engines)('GET /api/client/delta on $name', (engine) => {
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
  const create = async (name: string) => {
    const res = await server.api('POST', '/api/apps/shop/toggles', { name });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };
  const delta = async (token: string, etag?: string, query = '') => {
    const res = await sdkFetch(server, `/api/client/delta${query}`, token, {
      headers: { 'unleash-client-spec': '5.2.0', ...(etag && { 'if-none-match': etag }) },
    });
    const text = await res.text();
    return {
      status: res.status,
      etag: res.headers.get('etag') ?? '',
      text,
      events: text ? (JSON.parse(text) as { events: Event[] }).events : [],
    };
  };

  it('hydrates, answers 304 while current, then sends only what changed since the ETag', async () => {
    await create('d-one');
    await create('d-two');
    await create('x-other');
    await put('d-one', 'dqa', { enabled: true, strategies: [{ name: 'default' }] });
    await put('d-two', 'dqa', { enabled: false, strategies: [{ name: 'default' }] });
    const token = await clientToken(server, 'shop', 'dqa');

    const first = await delta(token);
    expect(first.status).toBe(200);
    expect(first.events).toHaveLength(1);
    const h = first.events[0] as Event & {
      features: { name: string; enabled: boolean }[];
      segments: unknown[];
    };
    expect(h.type).toBe('hydration');
    expect(h.features.map((f) => [f.name, f.enabled]).sort()).toEqual([
      ['d-one', true],
      ['d-two', false],
      ['x-other', false],
    ]);
    expect(first.etag).toMatch(/^".+:\d+:segments:delta"$/);

    const same = await delta(token, first.etag);
    expect(same.status).toBe(304);
    expect(same.text).toBe('');

    await put('d-two', 'dqa', { enabled: true });
    const next = await delta(token, first.etag);
    expect(next.status).toBe(200);
    expect(next.etag).not.toBe(first.etag);
    expect(next.events).toEqual([
      expect.objectContaining({
        type: 'feature-updated',
        eventId: h.eventId + 1,
        feature: expect.objectContaining({ name: 'd-two', enabled: true }),
      }),
    ]);
    expect((await delta(token, next.etag)).status).toBe(304);

    // A segment, then the toggle using it; both since the same ETag in one answer, segment first.
    const seg = await server.api<{ id: number }>('PUT', '/api/apps/shop/segments/delta-norway', {
      constraints: [{ contextName: 'country', operator: 'IN', values: ['NO'] }],
    });
    await put('d-one', 'dqa', { strategies: [{ name: 'default', segments: [seg.body.id] }] });
    const withSegment = await delta(token, next.etag);
    expect(withSegment.events.map((e) => e.type)).toEqual(['segment-updated', 'feature-updated']);
    expect(withSegment.events[0]).toMatchObject({ segment: { id: seg.body.id } });

    await server.api('POST', '/api/apps/shop/toggles/d-two/archive');
    const removed = await delta(token, withSegment.etag);
    expect(removed.events).toEqual([
      expect.objectContaining({ type: 'feature-removed', featureName: 'd-two', project: 'shop' }),
    ]);

    // No usable ETag: not ours, another environment's, an unknown revision → a hydration.
    const other = await delta(await clientToken(server, 'shop', 'dother'));
    for (const etag of ['"nonsense"', other.etag, removed.etag.replace(/:\d+:/, ':999999999:')]) {
      const res = await delta(token, etag);
      // A revision ahead of ours (another server already has it) is kept: 304.
      if (etag.includes(':999999999:')) {
        expect(res.status).toBe(304);
        continue;
      }
      expect(res.status, etag).toBe(200);
      expect(
        res.events.map((e) => e.type),
        etag,
      ).toEqual(['hydration']);
    }
    const older = removed.etag.replace(/:(\d+):/, ':0:');
    expect((await delta(token, older)).events.map((e) => e.type)).toEqual(['hydration']);

    // namePrefix selects features, with an ETag of its own.
    const prefixed = await delta(token, undefined, '?namePrefix=d-');
    const names = (prefixed.events[0] as unknown as { features: { name: string }[] }).features.map(
      (f) => f.name,
    );
    expect(names).toEqual(['d-one']);
    expect(prefixed.etag).not.toBe(removed.etag);
    expect((await delta(token, removed.etag, '?namePrefix=d-')).events[0]?.type).toBe('hydration');
    expect((await delta(token, prefixed.etag, '?namePrefix=d-')).status).toBe(304);
  });

  it('keeps the real unleash-client in delta mode in sync, with incremental events', async () => {
    await create('sdk-delta');
    await create('sdk-gone');
    await put('sdk-delta', 'dsdk', { enabled: false, strategies: [{ name: 'default' }] });
    await put('sdk-gone', 'dsdk', { enabled: true, strategies: [{ name: 'default' }] });
    await put('x-other', 'dsdk', {
      enabled: true,
      strategies: [{ name: 'default' }],
      variants: [{ name: 'blue', weight: 1000, payload: { type: 'string', value: 'b' } }],
    });
    const kinds: DeltaAnswer['kind'][] = [];
    const cache = server.gantry.clientApi.delta;
    const answer = cache.answer.bind(cache);
    cache.answer = (...args) => {
      const a = answer(...args);
      if (args[0].env === 'dsdk') kinds.push(a.kind);
      return a;
    };
    const token = await clientToken(server, 'shop', 'dsdk');
    const sdk = await startSdk(server, token, { delta: true, disableMetrics: true, refreshInterval: 100 });
    sdks.push(sdk);
    expect(kinds[0]).toBe('hydration');
    expect(sdk.isEnabled('sdk-delta')).toBe(false);
    expect(sdk.isEnabled('sdk-gone')).toBe(true);
    expect(sdk.getVariant('x-other', { userId: '1' })).toMatchObject({
      name: 'blue',
      payload: { type: 'string', value: 'b' },
    });

    let unchanged = 0;
    sdk.on('unchanged', () => unchanged++);
    await eventually(() => unchanged >= 2, 'two 304 polls');

    await put('sdk-delta', 'dsdk', { enabled: true });
    await eventually(() => sdk.isEnabled('sdk-delta'), 'the toggle change to reach the SDK', 20_000);

    const seg = await server.api<{ id: number }>('PUT', '/api/apps/shop/segments/delta-sweden', {
      constraints: [{ contextName: 'country', operator: 'IN', values: ['SE'] }],
    });
    await put('sdk-delta', 'dsdk', { strategies: [{ name: 'default', segments: [seg.body.id] }] });
    await eventually(
      () => !sdk.isEnabled('sdk-delta', { properties: { country: 'NO' } }),
      'the segment to reach the SDK',
      20_000,
    );
    expect(sdk.isEnabled('sdk-delta', { properties: { country: 'SE' } })).toBe(true);

    await server.api('POST', '/api/apps/shop/toggles/sdk-gone/archive');
    await eventually(
      () => sdk.getFeatureToggleDefinition('sdk-gone') === undefined,
      'the archived toggle to leave the SDK',
      20_000,
    );
    // Changes arrived as events since the SDK's revision (a poll that raced a commit may rehydrate).
    expect(kinds).toContain('delta');
  });
});
