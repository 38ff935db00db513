import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, yamlWithSteps } from '../../support/app-fixture.js';
import { engines } from '../../support/engines.js';
import { cleanupAll } from '../../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { admin, clientToken, createToggle, ofrep } from './ofrep-fixture.js';

afterAll(cleanupAll);

/** The OFREP refetch-notice stream, read as text. */
async function events(server: TestServer, headers: Record<string, string>) {
  const abort = new AbortController();
  const res = await fetch(`${server.url}/ofrep/v1/events`, { headers, signal: abort.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let seen = '';
  return {
    async readUntil(text: string): Promise<string> {
      while (!seen.includes(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${text}: ${seen}`);
        seen += value;
      }
      const upTo = seen.indexOf(text) + text.length;
      const out = seen.slice(0, upTo);
      seen = seen.slice(upTo);
      return out;
    },
    close: () => abort.abort(),
  };
}

type Bulk = {
  flags: { key: string; value?: unknown; errorCode?: string }[];
  metadata: Record<string, unknown>;
};

describe.each(engines)('OFREP over HTTP on $name', (engine) => {
  let server: TestServer;
  let token: string;
  const auth = () => ({ authorization: token });

  beforeAll(async () => {
    server = await startTestServer(engine);
    await createApp(server, yamlWithSteps(['true']));
    await createToggle(server, 'checkout', { enabled: true });
    await createToggle(server, 'search');
    await createToggle(server, 'half');
    await admin(server, 'POST', '/api/apps/shop/toggles/half/environments/production/rollout', {
      percent: 50,
    });
    await createToggle(server, 'retired', { enabled: true });
    await admin(server, 'POST', '/api/apps/shop/toggles/retired/archive');
    token = await clientToken(server, 'shop', 'production');
  });
  afterAll(async () => server.close());

  it('evaluates one flag in the OFREP shape, as JSON', async () => {
    const res = await ofrep(server, '/checkout', { headers: auth(), context: { targetingKey: 'u' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      key: 'checkout',
      value: true,
      reason: 'STATIC',
      variant: 'on',
      metadata: { type: 'release', revision: expect.any(Number) },
    });
    const bearer = await ofrep(server, '/search', { headers: { authorization: `Bearer ${token}` } });
    expect(await bearer.json()).toMatchObject({ value: false, reason: 'DISABLED' });
    const apiKey = await ofrep(server, '/search', { headers: { 'x-api-key': token } });
    expect(apiKey.status).toBe(200);
  });

  it('answers FLAG_NOT_FOUND, PARSE_ERROR, INVALID_CONTEXT and TARGETING_KEY_MISSING with their status', async () => {
    for (const key of ['nope', 'retired']) {
      const missing = await ofrep(server, `/${key}`, { headers: auth() });
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({
        key,
        errorCode: 'FLAG_NOT_FOUND',
        errorDetails: expect.any(String),
      });
    }
    const malformed = await ofrep(server, '/checkout', { headers: auth(), body: '{"context": {' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ key: 'checkout', errorCode: 'PARSE_ERROR' });
    const bulkMalformed = await ofrep(server, '', { headers: auth(), body: 'nope' });
    expect(bulkMalformed.status).toBe(400);
    expect(await bulkMalformed.json()).toEqual({
      errorCode: 'PARSE_ERROR',
      errorDetails: expect.any(String),
    });
    const invalid = await ofrep(server, '/checkout', { headers: auth(), body: '{"context":"u-1"}' });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ key: 'checkout', errorCode: 'INVALID_CONTEXT' });
    const keyless = await ofrep(server, '/half', { headers: auth() });
    expect(keyless.status).toBe(400);
    expect(await keyless.json()).toMatchObject({ key: 'half', errorCode: 'TARGETING_KEY_MISSING' });
    const empty = await fetch(`${server.url}/ofrep/v1/evaluate/flags/checkout`, {
      method: 'POST',
      headers: auth(),
    });
    expect(await empty.json()).toMatchObject({ value: true });
  });

  it('401 without a token or with an unknown one, 403 for an admin token', async () => {
    for (const path of ['/checkout', '']) {
      expect((await ofrep(server, path)).status).toBe(401);
      expect((await ofrep(server, path, { headers: { authorization: 'shop:production.beef' } })).status).toBe(
        401,
      );
      expect((await ofrep(server, path, { headers: { 'x-api-key': 'shop:production.beef' } })).status).toBe(
        401,
      );
      const adminToken = await ofrep(server, path, { headers: { authorization: `Bearer ${server.token}` } });
      expect(adminToken.status).toBe(403);
    }
  });

  it("evaluates in the token's environment", async () => {
    const staging = await clientToken(server, 'shop', 'staging');
    const res = await ofrep(server, '/checkout', { headers: { authorization: staging } });
    expect(await res.json()).toMatchObject({ value: false, reason: 'DISABLED' });
  });

  it('bulk: every flag of the environment, ETag per revision and context, 304 while both hold', async () => {
    const context = { targetingKey: 'user-1' };
    const first = await ofrep(server, '', { headers: auth(), context });
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"production:\d+:[\w-]+"$/);
    const body = (await first.json()) as Bulk;
    expect(body.flags.map((f) => f.key).sort()).toEqual(['checkout', 'half', 'search']);
    expect(body.flags.find((f) => f.key === 'checkout')).toMatchObject({ value: true, reason: 'STATIC' });
    expect(body.metadata).toEqual({ environment: 'production', revision: expect.any(Number) });

    const again = await ofrep(server, '', { headers: { ...auth(), 'if-none-match': etag }, context });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const otherUser = await ofrep(server, '', { headers: { ...auth(), 'if-none-match': etag }, context: {} });
    expect(otherUser.status).toBe(200);
    expect(((await otherUser.json()) as Bulk).flags.find((f) => f.key === 'half')).toMatchObject({
      errorCode: 'TARGETING_KEY_MISSING',
    });

    await admin(server, 'PUT', '/api/apps/shop/toggles/search/environments/production', { enabled: true });
    const changed = await ofrep(server, '', { headers: { ...auth(), 'if-none-match': etag }, context });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(((await changed.json()) as Bulk).flags.find((f) => f.key === 'search')).toMatchObject({
      value: true,
    });
    const single = await ofrep(server, '/search', { headers: auth(), context });
    expect(await single.json()).toMatchObject({ value: true, reason: 'STATIC' });
  });

  it('notifies a connected client to refetch when the environment changes', async () => {
    const stream = await events(server, auth());
    await stream.readUntil(': connected\n\n');
    const started = Date.now();
    await admin(server, 'PUT', '/api/apps/shop/toggles/checkout/environments/production', { enabled: false });
    const event = await stream.readUntil('}\n\n');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(event).toMatch(/id: \d+\nevent: message\ndata: \{"type":"refetchEvaluation"\}/);
    stream.close();
    const after = await ofrep(server, '/checkout', { headers: auth() });
    expect(await after.json()).toMatchObject({ value: false, reason: 'DISABLED' });

    // Resuming with an older event id refetches at once.
    const resumed = await events(server, { ...auth(), 'last-event-id': '0' });
    expect(await resumed.readUntil('refetchEvaluation')).toContain(': connected');
    resumed.close();
  });
});
