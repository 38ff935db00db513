import type { GantryEvent } from '@gantry/contracts';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../notifications/receiver.js';
import { createApp, finishedBuild, yamlWithSteps } from '../support/app-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

interface OpenApiDoc {
  paths: Record<
    string,
    Record<string, { responses?: Record<string, { content?: Record<string, { schema?: object }> }> }>
  >;
}

describe.each(engines)(
  'forge settings and the notification routes answer as documented on $name',
  (engine) => {
    let server: TestServer;
    let receiver: Receiver;
    let doc: OpenApiDoc;
    const ajv = new Ajv({ strict: false, allErrors: true });

    /** Calls a route, expects `status`, and checks the answer against the route's OpenAPI schema. */
    async function call<T>(route: string, url: string, status: number, body?: unknown): Promise<T> {
      const [method, path] = route.split(' ') as [string, string];
      const res = await server.api<T>(method, url, body);
      expect(res.status, `${route}: ${JSON.stringify(res.body)}`).toBe(status);
      const schema =
        doc.paths[path]?.[method.toLowerCase()]?.responses?.[String(status)]?.content?.['application/json']
          ?.schema;
      if (status < 300) {
        expect(schema, `${route} declares no ${status} answer`).toBeDefined();
        const validate = ajv.compile(schema!);
        expect(
          validate(res.body),
          `${route}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(res.body)}`,
        ).toBe(true);
      }
      return res.body;
    }

    beforeAll(async () => {
      server = await startTestServer(engine, { webhookBackoffMs: 50 });
      receiver = await startReceiver();
      doc = (await server.api<OpenApiDoc>('GET', '/api/openapi.json')).body;
      const app = await createApp(server, yamlWithSteps(['true']));
      for (const id of app.buildIds) await finishedBuild(server, id);
    });
    afterAll(async () => {
      await server?.close();
      await receiver?.close();
    });

    it('refuses bad settings with the reason, keeps the token write-only and keeps it on a change', async () => {
      const put = (body: unknown) => server.api<{ message: string }>('PUT', '/api/apps/shop/forge', body);
      const refused = async (body: unknown, message: RegExp, status = 400) => {
        const res = await put(body);
        expect(res.status, JSON.stringify(res.body)).toBe(status);
        expect(res.body.message).toMatch(message);
      };
      await refused({ provider: 'bitbucket', repo: 'a/b', token: 't' }, /provider/);
      await refused({ provider: 'github', repo: 'acme', token: 't' }, /repo: "acme" is not owner\/name/);
      await refused({ provider: 'github', repo: 'acme/../x', token: 't' }, /is not owner\/name/);
      await refused({ provider: 'gitlab', repo: 'shop', token: 't' }, /is not a GitLab project/);
      await refused({ provider: 'github', repo: 'acme/shop' }, /token: required the first time/);
      await refused(
        { provider: 'github', repo: 'acme/shop', token: 't', apiUrl: 'ftp://x' },
        /apiUrl: ftp URLs/,
      );
      await refused({ provider: 'github', repo: 'acme/shop', token: 'a b' }, /token: holds spaces/);
      await refused(
        { provider: 'github', repo: 'acme/shop', token: 't', productionEnvironments: ['Prod!'] },
        /productionEnvironments/,
      );
      await refused({ provider: 'github', repo: 'acme/shop', token: 't', tokn: 'x' }, /tokn/);
      expect(
        (await server.api('PUT', '/api/apps/nope/forge', { provider: 'github', repo: 'a/b', token: 't' }))
          .status,
      ).toBe(404);

      expect(await call('GET /api/apps/{app}/forge', '/api/apps/shop/forge', 200)).toEqual({ forge: null });
      const set = await call<{ forge: Record<string, unknown> }>(
        'PUT /api/apps/{app}/forge',
        '/api/apps/shop/forge',
        200,
        {
          provider: 'gitlab',
          apiUrl: `${receiver.url}/api/v4/`,
          repo: '42',
          token: 'first-token',
        },
      );
      expect(set.forge).toMatchObject({
        provider: 'gitlab',
        apiUrl: receiver.url,
        repo: '42',
        productionEnvironments: ['production'],
        token: 'stored',
        updatedBy: 'token:admin',
      });
      // A change without a token keeps the stored one.
      await call('PUT /api/apps/{app}/forge', '/api/apps/shop/forge', 200, {
        provider: 'gitlab',
        apiUrl: receiver.url,
        repo: 'acme/shop',
      });
      const build = await server.api<{ build: { id: string } }>('POST', '/api/builds', {
        app: 'shop',
        ref: 'HEAD',
        rebuild: true,
      });
      expect(build.status).toBe(201);
      await finishedBuild(server, build.body.build.id);
      const [queued] = await receiver.waitFor(3);
      expect(queued!.url).toMatch(/^\/api\/v4\/projects\/acme%2Fshop\/statuses\/[0-9a-f]{40}$/);
      expect(queued!.headers['private-token']).toBe('first-token');
      expect(queued!.json()).toMatchObject({
        state: 'pending',
        name: 'gantry/build',
        description: 'Build queued',
      });

      const log = await call<{ action: string; status: string }[]>(
        'GET /api/apps/{app}/forge/deliveries',
        '/api/apps/shop/forge/deliveries',
        200,
      );
      await waitFor(async () => {
        const l = (await server.api<{ status: string }[]>('GET', '/api/apps/shop/forge/deliveries')).body;
        return l.length === 3 && l.every((d) => d.status === 'succeeded') ? true : undefined;
      }, 'three statuses delivered');
      expect(log.every((d) => d.action === 'gitlab.status')).toBe(true);

      const changes = (await server.api<GantryEvent[]>('GET', '/api/events?type=app.forge_changed')).body;
      expect(changes).toHaveLength(2);
      expect(JSON.stringify(changes)).not.toContain('first-token');
      expect(JSON.stringify(await server.api('GET', '/api/apps/shop/forge'))).not.toContain('first-token');

      expect(await call('DELETE /api/apps/{app}/forge', '/api/apps/shop/forge', 200)).toEqual({
        forge: null,
      });
      const before = receiver.requests.length;
      const again = await server.api<{ build: { id: string } }>('POST', '/api/builds', {
        app: 'shop',
        ref: 'HEAD',
        rebuild: true,
      });
      await finishedBuild(server, again.body.build.id);
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.requests.length).toBe(before);
    });

    it('answers every notification route with what its OpenAPI schema says', async () => {
      const hook = await call<{ id: string }>(
        'POST /api/notifications/webhooks',
        '/api/notifications/webhooks',
        201,
        {
          url: `${receiver.url}/doc`,
          events: ['webhook.added'],
          secret: 'documented-secret',
        },
      );
      await call('GET /api/notifications/webhooks', '/api/notifications/webhooks', 200);
      await call('GET /api/notifications/webhooks/{id}', `/api/notifications/webhooks/${hook.id}`, 200);
      const [delivery] = await waitFor(async () => {
        const l = (
          await server.api<{ id: string; status: string }[]>(
            'GET',
            `/api/notifications/webhooks/${hook.id}/deliveries`,
          )
        ).body;
        return l[0]?.status === 'succeeded' ? l : undefined;
      }, 'the ping');
      await call(
        'GET /api/notifications/webhooks/{id}/deliveries',
        `/api/notifications/webhooks/${hook.id}/deliveries`,
        200,
      );
      await call(
        'GET /api/notifications/deliveries/{id}',
        `/api/notifications/deliveries/${delivery!.id}`,
        200,
      );
      await call(
        'POST /api/notifications/deliveries/{id}/redeliver',
        `/api/notifications/deliveries/${delivery!.id}/redeliver`,
        200,
      );
      await call('DELETE /api/notifications/webhooks/{id}', `/api/notifications/webhooks/${hook.id}`, 200);
    });
  },
);
