import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../support/app-fixture.js';
import { deployYaml, envPorts } from '../support/deploy-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

afterAll(cleanupAll);

/** Path parameter values a client could send by mistake or on purpose. */
const WEIRD = [
  '..%2F..%2Fetc%2Fpasswd',
  '..',
  '%00',
  'a%0Ab',
  '%E2%80%AEevil',
  '%24(id)',
  '--upload-pack%3Dx',
  'main%3Aevil',
  'x'.repeat(3000),
  'bld_nope',
  'sha256%3A..%2F..%2Fx',
];

interface Param {
  in: string;
  name: string;
}

/** Streams answer forever once they start; they are covered by event-streams.test.ts. */
const SKIP = [/\/stream(ing)?$/, /\/ofrep\/v1\/events$/];

describe.each(engines)(
  'every route answers bad values with a 4xx and a reason, never a 500, on $name',
  (engine) => {
    let server: TestServer;
    let paths: Record<string, Record<string, unknown>>;
    beforeAll(async () => {
      server = await startTestServer(engine);
      await createApp(server, deployYaml(await envPorts()));
      paths = (await server.api<{ paths: typeof paths }>('GET', '/api/openapi.json')).body.paths;
    });
    afterAll(async () => server.close());

    it('sweeps the OpenAPI document', async () => {
      const failures: string[] = [];
      let tried = 0;
      for (const [template, methods] of Object.entries(paths)) {
        if (SKIP.some((r) => r.test(template)) || !template.includes('{')) continue;
        for (const method of Object.keys(methods).map((m) => m.toUpperCase())) {
          for (const value of WEIRD) {
            // Each parameter weird in turn, the others valid-looking (so deeper checks are reached).
            const params = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
            for (const weird of params) {
              const url = template.replace(/\{(\w+)\}/g, (_m, name: string) =>
                name === weird ? value : name === 'app' ? 'shop' : name === 'env' ? 'qa' : 'x',
              );
              // `..` as a whole segment names another path before it is sent (`/api/deployments/../approvals`
              // is `/api/approvals`): that request is not this route's.
              if (url.split('/').includes('..')) continue;
              const res = await fetch(`${server.url}${url}`, {
                method,
                headers: {
                  authorization: `Bearer ${server.token}`,
                  ...(method === 'GET' || method === 'DELETE' ? {} : { 'content-type': 'application/json' }),
                },
                body: method === 'GET' || method === 'DELETE' ? undefined : '{}',
                signal: AbortSignal.timeout(15_000),
              });
              tried++;
              const text = await res.text();
              if (res.status >= 500 || res.status < 400) {
                // 2xx for a weird value would mean it was taken as real.
                failures.push(`${method} ${url.slice(0, 120)} → ${res.status} ${text.slice(0, 200)}`);
              } else if (!/"message":"[^"]+/.test(text)) {
                failures.push(
                  `${method} ${url.slice(0, 120)} → ${res.status} without a reason: ${text.slice(0, 200)}`,
                );
              }
            }
          }
        }
      }
      expect(tried).toBeGreaterThan(100);
      expect(failures).toEqual([]);
    }, 300_000);

    it('never answers a 500 to a weird value of any query parameter the OpenAPI document declares', async () => {
      const failures: string[] = [];
      let tried = 0;
      for (const [template, methods] of Object.entries(paths)) {
        if (SKIP.some((r) => r.test(template))) continue;
        for (const [method, op] of Object.entries(methods) as [string, { parameters?: Param[] }][]) {
          const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
          const url = template.replace(/\{(\w+)\}/g, (_m, name: string) =>
            name === 'app' ? 'shop' : name === 'env' ? 'qa' : 'x',
          );
          for (const name of query) {
            for (const value of [
              '../x',
              '-1',
              '1e309',
              'a\nb',
              '\u202E',
              '%',
              'x'.repeat(3000),
              '',
              'a\0b',
            ]) {
              const res = await fetch(`${server.url}${url}?${name}=${encodeURIComponent(value)}`, {
                method: method.toUpperCase(),
                headers: { authorization: `Bearer ${server.token}` },
                signal: AbortSignal.timeout(15_000),
              });
              tried++;
              const text = await res.text();
              if (res.status >= 500)
                failures.push(`${method} ${url}?${name}=${value.slice(0, 20)} → ${res.status} ${text}`);
            }
          }
        }
      }
      expect(tried).toBeGreaterThan(50);
      expect(failures).toEqual([]);
    }, 300_000);

    it('answers bad query and body values with a 4xx and a reason', async () => {
      const bad = [
        'a\0b',
        '../x',
        'a\nb',
        'qa\u202E',
        '$(id)',
        '--upload-pack=x',
        'main:evil',
        'x'.repeat(3000),
      ];
      const failures: string[] = [];
      const check = async (method: string, url: string, body?: unknown) => {
        const res = await server.api<{ message?: string }>(method, url, body);
        if (res.status < 400 || res.status >= 500 || !res.body?.message)
          failures.push(
            `${method} ${url.slice(0, 80)} ${JSON.stringify(body)?.slice(0, 80)} → ${res.status}`,
          );
      };
      for (const v of bad) {
        const q = encodeURIComponent(v);
        await check('GET', `/api/deployments?app=${q}`);
        await check('GET', `/api/builds?app=${q}`);
        await check('GET', `/api/events?app=${q}`);
        await check('GET', `/api/metrics?app=${q}`);
        await check('POST', '/api/apps/shop/deployments', { env: 'qa', ref: v });
        await check('POST', '/api/apps/shop/deployments', { env: v, ref: 'HEAD' });
        await check('POST', '/api/builds', { app: 'shop', ref: v });
        await check('POST', '/api/builds', { app: v });
        await check('POST', '/api/apps/shop/client-tokens', { env: v });
        await check('POST', '/api/incidents', { app: 'shop', env: v });
        await check('POST', '/api/apps', { name: v, repoUrl: '/nonexistent' });
        await check('POST', '/api/apps', { name: 'fresh', repoUrl: v });
        await check('POST', '/api/tokens', { name: 'x', role: 'hook', app: v });
      }
      expect(failures).toEqual([]);
    }, 300_000);
  },
);
