import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedHistory } from '../support/metrics-seed.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { commit, DAY, deploy, input, T0 } from './fixtures.js';

const iso = (t: number) => new Date(t).toISOString();
const window = `from=${iso(T0)}&to=${iso(T0 + 14 * DAY)}`;

describe('the console metrics routes: scopes and the HTML report', () => {
  let s: TestServer;
  let metricsToken: string;
  const get = (path: string, token: string, headers: Record<string, string> = {}) =>
    fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });

  beforeAll(async () => {
    s = await startTestServer();
    const history = (app: string, env: string) =>
      input({
        commits: [commit(1, iso(T0 + DAY)), commit(2, iso(T0 + 3 * DAY))],
        deployments: [
          deploy(`${app}-1`, 1, iso(T0 + 2 * DAY), { app, env }),
          deploy(`${app}-2`, 2, iso(T0 + 4 * DAY), { app, env }),
        ],
      });
    await seedHistory(s.gantry.database.db, history('web', 'production'));
    await seedHistory(s.gantry.database.db, history('api', 'staging'));
    const t = await s.api<{ token: string }>('POST', '/api/tokens', { name: 'dashboards', role: 'metrics' });
    metricsToken = t.body.token;
  });
  afterAll(async () => {
    await s?.close();
  });

  it('lists every app with the environments it has, for an admin and for a metrics token', async () => {
    for (const token of [s.token, metricsToken]) {
      const res = await get('/api/metrics/scopes', token);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        apps: [
          { name: 'api', environments: ['staging'] },
          { name: 'web', environments: ['production'] },
        ],
      });
    }
  });

  it('answers the HTML report of the same query as GET /api/metrics, to a metrics token too', async () => {
    const json = await (await get(`/api/metrics?app=web&${window}`, metricsToken)).json();
    const res = await get(`/api/metrics/report?app=web&${window}&bucket=day`, metricsToken);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('Delivery metrics — web / production');
    expect(html).toContain("default-src 'none'");
    expect((json as { deploymentFrequency: { deployments: number } }).deploymentFrequency.deployments).toBe(
      2,
    );
    // The same checks as the JSON report: an unknown app, an environment it does not have, a bad time.
    expect((await get(`/api/metrics/report?app=nope&${window}`, s.token)).status).toBe(404);
    const env = await get(`/api/metrics/report?app=api&env=production&${window}`, s.token);
    expect(env.status).toBe(400);
    expect(await env.text()).toContain('its environments: staging');
    expect((await get('/api/metrics/report?from=yesterday', s.token)).status).toBe(400);
  });

  it('keeps a metrics token to the metrics: the events export and the rest stay refused', async () => {
    expect((await get('/api/metrics/events', metricsToken)).status).toBe(403);
    expect((await get('/api/incidents', metricsToken)).status).toBe(403);
    // A path that is no route is no route, whoever asks.
    expect((await get('/api/metrics/scopesx', metricsToken)).status).toBe(404);
  });

  it('serves /metrics to Prometheus with a token and the console page to a browser navigating there', async () => {
    const scrape = await get('/metrics', metricsToken, { accept: 'text/plain;version=0.0.4' });
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toContain('gantry_deployments_total');
    // A browser's navigation: HTML first, no Authorization header (the console signs in by cookie).
    const page = await fetch(`${s.url}/metrics?range=30`, {
      headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).not.toContain('gantry_deployments_total');
    // Anything else without a token is still refused.
    expect((await fetch(`${s.url}/metrics`, { headers: { accept: 'text/plain' } })).status).toBe(401);
  });

  it('documents both routes in the OpenAPI document', async () => {
    const doc = (await (await get('/api/openapi.json', s.token)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/metrics/scopes', '/api/metrics/report']),
    );
  });
});
