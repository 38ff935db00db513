import { randomBytes } from 'node:crypto';
import type { Deployment, GantryEvent } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery, Webhook } from '../../src/features/notifications/notification-schemas.js';
import { createDeployableApp, deployedTo, envPorts } from '../support/deploy-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';
import { type Receiver, startReceiver, verifyGantrySignature } from './receiver.js';

afterAll(cleanupAll);

const header = (r: { headers: Record<string, unknown> }, name: string) => String(r.headers[name] ?? '');

describe.each(engines)('outbound webhooks carry real events on $name', (engine) => {
  let server: TestServer;
  const receivers: Receiver[] = [];
  let app: Awaited<ReturnType<typeof createDeployableApp>>;
  let firstQa: Deployment;

  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };
  const addWebhook = async (body: Record<string, unknown>) => {
    const res = await server.api<Webhook>('POST', '/api/notifications/webhooks', body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const deliveriesOf = async (id: string) =>
    (await server.api<Delivery[]>('GET', `/api/notifications/webhooks/${id}/deliveries?limit=500`)).body;

  beforeAll(async () => {
    server = await startTestServer(engine, { webhookBackoffMs: 50 });
  });
  afterAll(async () => {
    await server?.close();
    for (const r of receivers) await r.close();
  });

  it("signs each request over its exact bytes and sends the event as stored, in Gantry's JSON and as a Slack message", async () => {
    const signed = await receiver();
    const slack = await receiver();
    const secret = `whsec-${randomBytes(12).toString('hex')}`;
    const hook = await addWebhook({
      url: `${signed.url}/hooks/gantry?team=ops`,
      events: ['deployment.*', 'build.succeeded'],
      secret,
    });
    expect(hook).toMatchObject({
      app: null,
      url: `${signed.url}/hooks/gantry?team=***`,
      events: ['deployment.*', 'build.succeeded'],
      format: 'gantry',
      signed: true,
      timeoutMs: 10_000,
      maxAttempts: 5,
      createdBy: 'token:admin',
    });
    const slackHook = await addWebhook({
      url: `${slack.url}/slack`,
      format: 'slack',
      events: ['deployment.succeeded'],
    });
    expect(slackHook.signed).toBe(false);

    app = await createDeployableApp(server, await envPorts());
    firstQa = await deployedTo(server, 'qa', app.v1);
    expect(firstQa.status).toBe('succeeded');

    await signed.waitFor(1, (r) => header(r, 'x-gantry-event') === 'deployment.succeeded');
    const log = (await server.api<GantryEvent[]>('GET', '/api/events?app=shop&limit=1000')).body;
    const wanted = log.filter((e) => e.type.startsWith('deployment.') || e.type === 'build.succeeded');
    const requests = await signed.waitFor(wanted.length);
    const now = Math.floor(Date.now() / 1000);
    for (const r of requests) {
      expect(r.method).toBe('POST');
      expect(r.url).toBe('/hooks/gantry?team=ops');
      expect(header(r, 'content-type')).toBe('application/json');
      expect(header(r, 'user-agent')).toBe('Gantry-Notifications/0.1');
      expect(Math.abs(Number(header(r, 'x-gantry-timestamp')) - now)).toBeLessThan(300);
      expect(verifyGantrySignature(secret, r)).toBe(true);
      const body = r.json() as GantryEvent & { delivery: string; app: string };
      expect(header(r, 'x-gantry-delivery')).toBe(body.delivery);
      expect(header(r, 'x-gantry-event')).toBe(body.type);
      expect(body.delivery).toMatch(/^dlv_/);
      // The event as the log holds it, with the app's name.
      const stored = log.find((e) => e.id === body.id);
      expect({ ...body, delivery: undefined, app: undefined }).toEqual({
        ...stored,
        delivery: undefined,
        app: undefined,
      });
      expect(body.app).toBe('shop');
    }
    // Each event once, in a request of its own.
    expect(requests.map((r) => (r.json() as GantryEvent).id).sort()).toEqual(wanted.map((e) => e.id).sort());
    expect(new Set(requests.map((r) => header(r, 'x-gantry-delivery'))).size).toBe(requests.length);
    // A tampered body no longer verifies.
    expect(
      verifyGantrySignature(secret, { ...requests[0]!, body: Buffer.from(`${requests[0]!.body} `) }),
    ).toBe(false);

    const [message] = await slack.waitFor(1);
    expect(message!.url).toBe('/slack');
    expect(header(message!, 'x-gantry-signature')).toBe('');
    const text = `shop: deployment of ${app.v1.slice(0, 7)} to qa succeeded (start, `;
    const body = message!.json() as {
      text: string;
      blocks: { type: string; text?: { text: string }; elements?: { text: string }[] }[];
    };
    expect(body.text.startsWith(text)).toBe(true);
    expect(body.text).toMatch(/ \d+\.\d s\)$/);
    expect(body.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: `:large_green_circle: ${body.text}` } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `\`deployment.succeeded\` · by deployer · <${server.url}/apps/shop/deployments/${firstQa.id}|details>`,
          },
        ],
      },
    ]);

    const deliveries = await waitFor(async () => {
      const list = await deliveriesOf(hook.id);
      return list.length === requests.length && list.every((d) => d.status === 'succeeded')
        ? list
        : undefined;
    }, 'every delivery recorded as succeeded');
    for (const d of deliveries) {
      expect(d).toMatchObject({
        target: hook.id,
        app: 'shop',
        action: 'webhook',
        attemptCount: 1,
        lastStatus: 200,
      });
      expect(d.attempts).toEqual([
        expect.objectContaining({
          number: 1,
          redelivery: false,
          method: 'POST',
          url: `${signed.url}/hooks/gantry?team=***`,
          responseStatus: 200,
          responseBody: 'ok',
          error: null,
        }),
      ]);
    }
    const listed = (await server.api<Webhook[]>('GET', '/api/notifications/webhooks')).body;
    expect(listed.find((w) => w.id === hook.id)?.deliveries).toEqual({
      pending: 0,
      succeeded: requests.length,
      failed: 0,
      skipped: 0,
    });
    expect(JSON.stringify(listed)).not.toContain(secret);
  });

  it('times out a receiver that hangs and retries it, while deployments and other receivers go on', async () => {
    const hanging = await receiver();
    const healthy = await receiver();
    let release = false;
    hanging.answer(() => (release ? { status: 204 } : 'hang'));
    const slow = await addWebhook({
      url: hanging.url,
      events: ['deployment.*'],
      timeoutMs: 300,
      maxAttempts: 20,
    });
    const fine = await addWebhook({ url: healthy.url, events: ['deployment.succeeded'] });

    const v2 = await app.pushFiles({ VERSION: 'v2' }, 'v2');
    await server.api('POST', '/api/apps/shop/sync');
    const qa = await deployedTo(server, 'qa', v2);
    expect(qa.status).toBe('succeeded');
    // The other receiver has the news while the first one still answers nothing.
    await healthy.waitFor(1);
    expect(hanging.requests.length).toBeGreaterThan(0);
    const timedOut = await waitFor(async () => {
      const list = await deliveriesOf(slow.id);
      const d = list.find((x) => x.event.type === 'deployment.succeeded');
      return d && d.attempts.length >= 1 ? d : undefined;
    }, 'an attempt of deployment.succeeded that timed out');
    expect(timedOut.status).toBe('pending');
    expect(timedOut.attempts[0]).toMatchObject({ responseStatus: null, error: 'timed out after 300 ms' });
    expect(timedOut.nextAttemptAt).not.toBeNull();
    expect((await deliveriesOf(slow.id)).every((d) => d.status !== 'succeeded')).toBe(true);
    expect((await deliveriesOf(fine.id)).map((d) => [d.event.type, d.status])).toEqual([
      ['deployment.succeeded', 'succeeded'],
    ]);

    release = true;
    const done = await waitFor(async () => {
      const list = await deliveriesOf(slow.id);
      return list.length > 0 && list.every((d) => d.status === 'succeeded') ? list : undefined;
    }, 'the slow receiver to take every delivery once it answers');
    const succeeded = done.find((d) => d.event.type === 'deployment.succeeded')!;
    expect(succeeded.attempts.length).toBeGreaterThan(1);
    expect(succeeded.attempts.at(-1)).toMatchObject({ responseStatus: 204, error: null });
    expect(succeeded.attempts.slice(0, -1).every((a) => a.error === 'timed out after 300 ms')).toBe(true);
    // Retries back off: each wait at least half the doubled base after the timeout.
    const starts = succeeded.attempts.map((a) => Date.parse(a.startedAt));
    for (let i = 1; i < starts.length; i++)
      expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(300 + (50 * 2 ** (i - 1)) / 2 - 5);
  });
});
