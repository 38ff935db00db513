import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/server-config.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

describe('server-sent event streams: caps and slow clients', () => {
  let server: TestServer | null = null;
  const open: AbortController[] = [];
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const ac of open.splice(0)) ac.abort();
    for (const s of sockets.splice(0)) s.destroy();
    await server?.close();
    server = null;
  });

  const stream = async (token: string, path = '/api/events/stream') => {
    const ac = new AbortController();
    open.push(ac);
    const res = await fetch(`${live().url}${path}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: ac.signal,
    });
    return { res, ac };
  };
  const stats = () => live().http.eventStreams.stats();
  const live = () => {
    if (!server) throw new Error('no server');
    return server;
  };

  it('reads its caps from GANTRY_SSE_MAX_PER_TOKEN, GANTRY_SSE_MAX_TOTAL and GANTRY_SSE_MAX_BUFFER', () => {
    const { config, errors } = loadServerConfig(
      {},
      { GANTRY_SSE_MAX_PER_TOKEN: '3', GANTRY_SSE_MAX_TOTAL: '50', GANTRY_SSE_MAX_BUFFER: '256k' },
    );
    expect(errors).toEqual([]);
    expect(config).toMatchObject({ sseMaxPerToken: 3, sseMaxTotal: 50, sseMaxBufferedBytes: 256 * 1024 });
    const defaults = loadServerConfig({}, {}).config;
    expect(defaults).toMatchObject({ sseMaxPerToken: 16, sseMaxTotal: 1000, sseMaxBufferedBytes: 1024 ** 2 });
    expect(loadServerConfig({}, { GANTRY_SSE_MAX_PER_TOKEN: 'many' }).errors).toEqual([
      expect.stringContaining('GANTRY_SSE_MAX_PER_TOKEN'),
    ]);
  });

  it('past the cap per token answers 429 with a reason and Retry-After; another token still gets one', async () => {
    server = await startTestServer(undefined, { sseMaxPerToken: 2, sseMaxTotal: 10 });
    const first = await stream(server.token);
    await stream(server.token);
    expect(first.res.status).toBe(200);
    const third = await stream(server.token);
    expect(third.res.status).toBe(429);
    expect(third.res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await third.res.json()).toMatchObject({
      error: 'TooManyStreams',
      message: expect.stringContaining('GANTRY_SSE_MAX_PER_TOKEN=2'),
    });
    const { body } = await server.api<{ token: string }>('POST', '/api/tokens', { name: 'other' });
    expect((await stream(body.token)).res.status).toBe(200);
    // A closed stream frees its place.
    first.ac.abort();
    await waitFor(async () => (stats().open === 2 ? true : undefined), 'the closed stream to be let go');
    expect((await stream(server.token)).res.status).toBe(200);
  });

  it('past the cap in total answers 503 with a reason and Retry-After, whatever the stream', async () => {
    server = await startTestServer(undefined, { sseMaxPerToken: 10, sseMaxTotal: 2 });
    await stream(server.token);
    await stream(server.token);
    const full = await stream(server.token);
    expect(full.res.status).toBe(503);
    expect(full.res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await full.res.json()).toMatchObject({
      message: expect.stringContaining('GANTRY_SSE_MAX_TOTAL=2'),
    });
  });

  it('drops a client that stops reading, so what the server buffers for it stays bounded', async () => {
    const limit = 64 * 1024;
    server = await startTestServer(undefined, { sseMaxBufferedBytes: limit });
    const url = new URL(server.url);
    const socket = connect(Number(url.port), url.hostname);
    sockets.push(socket);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `GET /api/events/stream HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${server.token}\r\n\r\n`,
    );
    // Read the response head, then never read again.
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.pause();
    await waitFor(async () => (stats().open === 1 ? true : undefined), 'the stream to open');

    const blob = 'x'.repeat(100_000);
    // 30 MB: far more than the socket buffers of both ends hold (a few MB on loopback), so the
    // stream must be dropped once the server has read its way through them, however slowly.
    for (let i = 0; i < 300 && stats().dropped === 0; i++) {
      await server.gantry.events.append({
        type: 'app.added',
        appId: null,
        subject: `e${i}`,
        actor: 'test',
        data: { name: blob },
      });
    }
    await waitFor(
      async () => (stats().dropped === 1 && stats().open === 0 ? true : undefined),
      'the slow client to be dropped',
      120_000,
    );
    // What waited in the server never grew much past the mark: one event over it at most.
    expect(stats().maxBuffered).toBeLessThanOrEqual(limit + blob.length + 1000);
    expect(stats().maxBuffered).toBeGreaterThan(limit);
  });
});
