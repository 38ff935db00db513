import type { GantryEvent } from '@gantry/contracts';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/server-config.js';
import type { Delivery, Webhook } from '../../src/features/notifications/notification-schemas.js';
import { type RunningServer, startServer } from '../../src/start-server.js';
import { engines, freshSchemaName, releaseSchema } from '../support/engines.js';
import { cleanupAll, makeTempDir } from '../support/git-fixtures.js';
import { freePort } from '../support/server-process.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';
import { type Receiver, startReceiver } from './receiver.js';

afterAll(cleanupAll);

describe.each(engines)('webhook retries, redelivery and restarts on $name', (engine) => {
  let server: TestServer | undefined;
  const receivers: Receiver[] = [];
  afterEach(async () => {
    await server?.close();
    server = undefined;
    for (const r of receivers.splice(0)) await r.close();
  });
  const receiver = async (port?: number) => {
    const r = await startReceiver(port);
    receivers.push(r);
    return r;
  };
  const deliveries = async (s: TestServer, id: string) =>
    (await s.api<Delivery[]>('GET', `/api/notifications/webhooks/${id}/deliveries`)).body;

  it('retries a receiver that answers 500 with backoff, logging both attempts under one delivery id', async () => {
    server = await startTestServer(engine, { webhookBackoffMs: 100 });
    const r = await receiver();
    r.answer((_req, n) =>
      n === 1 ? { status: 500, body: `{"error":"${'x'.repeat(5000)}"}` } : { status: 200, body: 'thanks' },
    );
    // A webhook's own creation is its first event: a ping that needs no app.
    const hook = (
      await server.api<Webhook>('POST', '/api/notifications/webhooks', {
        url: r.url,
        events: ['webhook.added'],
      })
    ).body;
    const [first, second] = await r.waitFor(2);
    expect(first!.headers['x-gantry-delivery']).toBe(second!.headers['x-gantry-delivery']);
    expect(first!.body.equals(second!.body)).toBe(true);
    expect(first!.json()).toMatchObject({
      type: 'webhook.added',
      subject: hook.id,
      app: null,
      data: { url: `${r.url}/` },
    });

    const [d] = await waitFor(async () => {
      const list = await deliveries(server!, hook.id);
      return list[0]?.status === 'succeeded' ? list : undefined;
    }, 'the delivery to succeed');
    expect(d).toMatchObject({
      id: first!.headers['x-gantry-delivery'],
      attemptCount: 2,
      lastStatus: 200,
      lastError: null,
    });
    expect(d!.attempts).toMatchObject([
      { number: 1, responseStatus: 500, error: 'answered 500 Internal Server Error' },
      { number: 2, responseStatus: 200, responseBody: 'thanks', error: null },
    ]);
    // The answer is kept capped.
    expect(d!.attempts[0]!.responseBody!.length).toBeLessThanOrEqual(2049);
    expect(
      Date.parse(d!.attempts[1]!.startedAt) - Date.parse(d!.attempts[0]!.startedAt),
    ).toBeGreaterThanOrEqual(50);
  });

  it('gives up on a receiver that is down after its attempts, and delivers again by hand once it is up', async () => {
    server = await startTestServer(engine, { webhookBackoffMs: 20 });
    const port = await freePort();
    const hook = (
      await server.api<Webhook>('POST', '/api/notifications/webhooks', {
        url: `http://127.0.0.1:${port}/down`,
        events: ['webhook.added'],
        maxAttempts: 3,
      })
    ).body;
    const [failed] = await waitFor(async () => {
      const list = await deliveries(server!, hook.id);
      return list[0]?.status === 'failed' ? list : undefined;
    }, 'the delivery to fail for good');
    expect(failed!.attemptCount).toBe(3);
    expect(failed!.nextAttemptAt).toBeNull();
    expect(failed!.attempts.map((a) => a.error)).toEqual(Array(3).fill('connection refused (ECONNREFUSED)'));
    expect(failed!.attempts.every((a) => a.responseStatus === null)).toBe(true);
    expect(
      (await server.api<Webhook>('GET', `/api/notifications/webhooks/${hook.id}`)).body.deliveries,
    ).toEqual({
      pending: 0,
      succeeded: 0,
      failed: 1,
      skipped: 0,
    });

    const up = await receiver(port);
    const res = await server.api<{ delivery: Delivery; attempt: Delivery['attempts'][number] }>(
      'POST',
      `/api/notifications/deliveries/${failed!.id}/redeliver`,
    );
    expect(res.status).toBe(200);
    expect(res.body.attempt).toMatchObject({ number: 4, redelivery: true, responseStatus: 200, error: null });
    expect(res.body.delivery).toMatchObject({ id: failed!.id, status: 'succeeded', attemptCount: 4 });
    expect(res.body.delivery.attempts).toHaveLength(4);
    const [got] = await up.waitFor(1);
    expect(got!.url).toBe('/down');
    expect(got!.headers['x-gantry-delivery']).toBe(failed!.id);

    // A redelivery that fails is recorded and leaves a delivered one as it was.
    up.answer(() => ({ status: 503, headers: { 'retry-after': '1' } }));
    const again = await server.api<{ delivery: Delivery }>(
      'POST',
      `/api/notifications/deliveries/${failed!.id}/redeliver`,
    );
    expect(again.body.delivery).toMatchObject({ status: 'succeeded', attemptCount: 5, lastStatus: 503 });
    expect((await server.api('POST', '/api/notifications/deliveries/dlv_nope/redeliver')).status).toBe(404);
  });

  it('neither loses nor repeats a delivery across a restart: the cursor and the delivery rows live in the database', async () => {
    const dataDir = await makeTempDir('gantry-notify-');
    const schema = engine.name === 'postgres' ? freshSchemaName() : undefined;
    const { config } = loadServerConfig(
      {
        dataDir,
        port: 0,
        databaseUrl: engine.url,
        defaultPollIntervalMs: 0,
        logLevel: 'silent',
        webhookBackoffMs: 50,
      },
      {},
    );
    const start = () => startServer(config, { schema, logger: pino({ level: 'silent' }) });
    const r = await receiver();
    let up = false;
    /** Event ids the receiver took (answered 200), in order, duplicates included. */
    const taken: number[] = [];
    r.answer((req) => {
      if (!up) return { status: 503 };
      taken.push((req.json() as GantryEvent).id);
      return { status: 200 };
    });
    let a: RunningServer | undefined;
    let b: RunningServer | undefined;
    try {
      a = await start();
      const token = a.adminToken!;
      const api = async <T>(s: RunningServer, method: string, path: string, body?: unknown) => {
        const res = await fetch(`${s.url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          body: body ? JSON.stringify(body) : undefined,
        });
        return (await res.json()) as T;
      };
      const hook = await api<Webhook>(a, 'POST', '/api/notifications/webhooks', {
        url: r.url,
        events: ['token.created'],
        maxAttempts: 20,
      });
      const list = (s: RunningServer) =>
        api<Delivery[]>(s, 'GET', `/api/notifications/webhooks/${hook.id}/deliveries`);
      // Two events planned and tried (the receiver refuses them) before the restart …
      for (const name of ['one', 'two']) await api(a, 'POST', '/api/tokens', { name, role: 'metrics' });
      const before = await waitFor(async () => {
        const l = await list(a!);
        return l.length === 2 && l.every((d) => d.attemptCount >= 1) ? l : undefined;
      }, 'two deliveries tried');
      // … and two appended while the dispatcher is stopped already, so only the saved cursor finds them.
      await a.gantry.dispatcher.stop();
      for (const name of ['three', 'four']) await api(a, 'POST', '/api/tokens', { name, role: 'metrics' });
      await a.stop();
      a = undefined;

      up = true;
      b = await start();
      const done = await waitFor(async () => {
        const l = await list(b!);
        return l.length === 4 && l.every((d) => d.status === 'succeeded') ? l : undefined;
      }, 'four deliveries done after the restart');
      const created = (await api<GantryEvent[]>(b, 'GET', '/api/events?type=token.created&limit=100'))
        .filter((e) => ['one', 'two', 'three', 'four'].includes(String(e.data.name)))
        .map((e) => e.id)
        .sort();
      // A later round could still send something twice: give it the time to, then count.
      await new Promise((res) => setTimeout(res, 500));
      expect([...taken].sort()).toEqual(created);
      expect(done.map((d) => d.event.id).sort()).toEqual(created);
      for (const d of done) expect(d.attempts.filter((x) => x.responseStatus === 200)).toHaveLength(1);
      // The deliveries tried before the restart went on under their ids, their refused attempts kept.
      for (const old of before) {
        const after = done.find((d) => d.id === old.id)!;
        expect(after.attempts.slice(0, old.attempts.length)).toEqual(old.attempts);
        expect(after.attempts[0]!.responseStatus).toBe(503);
      }
    } finally {
      await a?.stop();
      await b?.stop();
      if (schema && engine.url) await releaseSchema(engine.url, schema);
    }
  });

  it('refuses bad webhooks with the reason, never shows a secret, and keeps SDK, hook and metrics tokens out', async () => {
    server = await startTestServer(engine);
    const post = (body: unknown) =>
      server!.api<{ message: string }>('POST', '/api/notifications/webhooks', body);
    const refused = async (body: unknown, status: number, message: RegExp) => {
      const res = await post(body);
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.message).toMatch(message);
    };
    await refused({ url: 'ftp://example.com/x' }, 400, /ftp URLs are not sent to; use http or https/);
    await refused({ url: 'not a url' }, 400, /not an absolute URL/);
    await refused(
      { url: 'https://example.com', events: ['deploymnet.failed'] },
      400,
      /did you mean "deployment.failed"/,
    );
    await refused({ url: 'https://example.com', format: 'teams' }, 400, /format/);
    await refused({ url: 'https://example.com', app: 'nope' }, 404, /no app named "nope"/);
    await refused({ url: 'https://example.com', timeoutMs: 10 }, 400, /timeoutMs/);
    await refused({ url: 'https://example.com', secret: 'short' }, 400, /secret/);
    await refused({ url: 'https://example.com', evnets: ['*'] }, 400, /evnets/);

    const secret = 'a-long-enough-secret';
    const created = await post({
      url: 'https://bot:pa55word@example.com/hook?key=k3y',
      secret,
      events: ['*'],
    });
    expect(created.status).toBe(201);
    const id = (created.body as unknown as Webhook).id;
    const everything = JSON.stringify([
      created.body,
      (await server.api('GET', '/api/notifications/webhooks')).body,
      (await server.api('GET', `/api/notifications/webhooks/${id}`)).body,
      (await server.api('GET', `/api/notifications/webhooks/${id}/deliveries`)).body,
      (await server.api('GET', '/api/events?type=webhook.added')).body,
    ]);
    for (const hidden of [secret, 'pa55word', 'k3y']) expect(everything).not.toContain(hidden);
    expect((created.body as unknown as Webhook).url).toBe('https://bot:***@example.com/hook?key=***');

    const metrics = await server.api<{ token: string }>('POST', '/api/tokens', {
      name: 'prom',
      role: 'metrics',
    });
    const asMetrics = await fetch(`${server.url}/api/notifications/webhooks`, {
      headers: { authorization: `Bearer ${metrics.body.token}` },
    });
    expect(asMetrics.status).toBe(403);
    expect((await fetch(`${server.url}/api/notifications/webhooks`)).status).toBe(401);

    const removed = await server.api<Webhook>('DELETE', `/api/notifications/webhooks/${id}`);
    expect(removed.status).toBe(200);
    expect((await server.api('GET', `/api/notifications/webhooks/${id}`)).status).toBe(404);
    expect((await server.api('GET', `/api/notifications/webhooks/${id}/deliveries`)).status).toBe(404);
    expect((await server.api('DELETE', `/api/notifications/webhooks/${id}`)).status).toBe(404);
  });
});
