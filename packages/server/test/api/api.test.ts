import type { GantryEvent } from '@gantry/contracts';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, finishedBuild, yamlWithSteps } from '../support/app-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

afterAll(cleanupAll);

/** Reads server-sent events until `count` have arrived. */
async function readEvents(
  url: string,
  token: string,
  count: number,
  lastEventId?: number,
): Promise<GantryEvent[]> {
  const ac = new AbortController();
  const res = await fetch(url, {
    headers: {
      authorization: `Bearer ${token}`,
      ...(lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) }),
    },
    signal: ac.signal,
  });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const events: GantryEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const timer = setTimeout(() => ac.abort(), 10_000);
  try {
    for await (const chunk of res.body!) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        const id = block.split('\n').find((l) => l.startsWith('id: '));
        if (data) {
          const e = JSON.parse(data.slice(6)) as GantryEvent;
          expect(id).toBe(`id: ${e.id}`);
          events.push(e);
        }
        if (events.length >= count) return events;
        end = buffer.indexOf('\n\n');
      }
    }
  } catch (e) {
    if (!ac.signal.aborted) throw e;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return events;
}

describe.each(engines)('HTTP API on $name', (engine) => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer(engine);
  });
  afterEach(async () => server.close());

  it('needs a bearer token everywhere but /healthz and webhooks', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const none = await fetch(`${server.url}/api/builds`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({
      error: 'Unauthenticated',
      message: expect.stringContaining('Bearer'),
    });
    const wrong = await fetch(`${server.url}/api/builds`, { headers: { authorization: 'Bearer gnt_nope' } });
    expect(wrong.status).toBe(401);
    expect((await fetch(`${server.url}/api/openapi.json`)).status).toBe(401);
    // Webhooks need no bearer token: they are refused for their signature instead.
    const hook = await fetch(`${server.url}/api/webhooks/github`, { method: 'POST' });
    expect(await hook.json()).toMatchObject({ message: expect.stringContaining('signature') });
  });

  it('creates tokens that work at once; a hook token may only notify pushes', async () => {
    const { status, body } = await server.api<{ token: string }>('POST', '/api/tokens', { name: 'ci' });
    expect(status).toBe(201);
    const ok = await fetch(`${server.url}/api/apps`, { headers: { authorization: `Bearer ${body.token}` } });
    expect(ok.status).toBe(200);
    // A hook token is bound to one app (see tokens-and-hooks.test.ts); without one it is refused.
    const hook = await server.api<{ message: string }>('POST', '/api/tokens', { name: 'h', role: 'hook' });
    expect(hook.status).toBe(400);
    expect(hook.body.message).toContain('app');
  });

  it('stores tokens hashed', async () => {
    const rows = await server.gantry.database.db.selectFrom('tokens').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.name).toBe('admin');
    expect(rows[0]!.hash).not.toContain(server.token);
    expect(rows[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers errors as { error, message } with the right status', async () => {
    const missing = await server.api<{ error: string; message: string }>('GET', '/api/builds/bld_nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'NotFound', message: expect.stringContaining('gantry builds') });
    const bad = await server.api<{ error: string }>('POST', '/api/apps', { name: 'Bad Name', repoUrl: '/x' });
    expect(bad.status).toBe(400);
    const invalid = await server.api<{ error: string; message: string }>('GET', '/api/builds?limit=0');
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toBe('InvalidInput');
    const noRepo = await server.api<{ message: string }>('POST', '/api/apps', {
      name: 'x',
      repoUrl: '/nope/repo.git',
    });
    expect(noRepo.status).toBe(400);
    expect(noRepo.body.message).toContain('does not exist');
  });

  it('describes itself in /api/openapi.json', async () => {
    const { status, body } = await server.api<{ openapi: string; paths: Record<string, unknown> }>(
      'GET',
      '/api/openapi.json',
    );
    expect(status).toBe(200);
    expect(body.openapi).toMatch(/^3\./);
    for (const path of [
      '/api/apps',
      '/api/builds',
      '/api/builds/{id}/logs',
      '/api/artifacts/{id}/download',
      '/api/events/stream',
    ]) {
      expect(Object.keys(body.paths)).toContain(path);
    }
  });

  it('streams events as SSE and resumes after Last-Event-ID', async () => {
    const app = await createApp(server, yamlWithSteps(['true']));
    await finishedBuild(server, app.buildIds[0]!);
    const all = await readEvents(`${server.url}/api/events/stream?after=0`, server.token, 4);
    expect(all.map((e) => e.type).slice(0, 4)).toEqual([
      'token.created',
      'app.added',
      'push.received',
      'commit.recorded',
    ]);
    const resumed = await readEvents(`${server.url}/api/events/stream`, server.token, 1, all[1]!.id);
    expect(resumed[0]!.id).toBe(all[2]!.id);
    const { body: listed } = await server.api<GantryEvent[]>(
      'GET',
      `/api/events?after=${all[1]!.id}&limit=1`,
    );
    expect(listed[0]).toEqual(all[2]);
  });

  it('pushes new events to a live stream', async () => {
    const pending = readEvents(`${server.url}/api/events/stream?type=app.added`, server.token, 1);
    await new Promise((r) => setTimeout(r, 200));
    await createApp(server, yamlWithSteps(['true']));
    const [event] = await pending;
    expect(event).toMatchObject({ type: 'app.added', data: { name: 'shop' } });
  });
});
