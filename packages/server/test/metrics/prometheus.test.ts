import { spawnSync } from 'node:child_process';
import type { Build, Deployment, Incident } from '@gantry/contracts';
import parsePrometheusTextFormat, { type PromFamily, type PromSample } from 'parse-prometheus-text-format';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUILD_DURATION_BUCKETS,
  BUILD_QUEUE_BUCKETS,
  PrometheusExporter,
  ROLLBACK_DURATION_BUCKETS,
} from '../../src/features/metrics/prometheus.js';
import { buildsOf } from '../support/app-fixture.js';
import { createDeployableApp, deployedTo, deploymentDone, envPorts } from '../support/deploy-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { clientToken, sdkFetch } from '../toggles/client-api/client-api-fixture.js';

afterAll(cleanupAll);

/** Set by test/global-setup.ts when promtool is installed (CI requires it). */
const PROMTOOL = process.env.TEST_PROMTOOL;

const SAMPLE =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (\S+)$/;
const META = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*)(?: (.*))?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g;

/**
 * The text format's rules that a lenient parser lets through: one HELP and TYPE per family, before
 * its samples; samples of a family together, named after it (with _bucket/_sum/_count where its type
 * has them); label and value syntax; a final newline.
 */
function checkExposition(text: string): void {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const closed = new Set<string>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = META.exec(line);
    let family: string;
    if (meta) {
      family = meta[2]!;
      if (meta[1] === 'TYPE') {
        expect(types.has(family), `a second TYPE for ${family}`).toBe(false);
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(meta[3]);
        types.set(family, meta[3]!);
      }
    } else {
      const sample = SAMPLE.exec(line);
      expect(sample, `not a sample line: ${line}`).not.toBeNull();
      const value = sample![3]!;
      expect(['+Inf', '-Inf', 'NaN'].includes(value) || !Number.isNaN(Number(value)), line).toBe(true);
      family = current!;
      const type = types.get(family);
      expect(type, `a sample before the TYPE of its family: ${line}`).toBeDefined();
      const names = [family];
      if (type === 'histogram' || type === 'summary') names.push(`${family}_sum`, `${family}_count`);
      if (type === 'histogram') names.push(`${family}_bucket`);
      expect(names, `a sample outside its family: ${line}`).toContain(sample![1]);
    }
    if (family !== current) {
      expect(closed.has(family), `family ${family} is split`).toBe(false);
      if (current) closed.add(current);
      current = family;
    }
  }
}

const sameLabels = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);

/** The samples of a family's `name`d lines: [name, labels, value]. */
function samplesOf(text: string, names: string[]): [string, Record<string, string>, string][] {
  const out: [string, Record<string, string>, string][] = [];
  for (const line of text.split('\n')) {
    const m = SAMPLE.exec(line);
    if (m && names.includes(m[1]!))
      out.push([
        m[1]!,
        Object.fromEntries([...(m[2] ?? '').matchAll(LABEL)].map((l) => [l[1]!, l[2]!])),
        m[3]!,
      ]);
  }
  return out;
}

/**
 * One series of a histogram or summary, parsed by parse-prometheus-text-format. Version 1.1.1 folds
 * all the label sets of such a family into one (it reads only `le` and `quantile`), so the series is
 * cut out of the text first, its other labels dropped.
 */
function parseSeries(text: string, name: string, labels: Record<string, string>): PromSample | undefined {
  const lines = text
    .split('\n')
    .filter((l) => l.startsWith(`# HELP ${name} `) || l.startsWith(`# TYPE ${name} `));
  for (const [sample, all, value] of samplesOf(text, [
    name,
    `${name}_bucket`,
    `${name}_sum`,
    `${name}_count`,
  ])) {
    const { le, quantile, ...rest } = all;
    if (!sameLabels(rest, labels)) continue;
    const kept = le !== undefined ? `{le="${le}"}` : quantile !== undefined ? `{quantile="${quantile}"}` : '';
    lines.push(`${sample}${kept} ${value}`);
  }
  if (lines.length === 2) return undefined;
  const [family] = parsePrometheusTextFormat(`${lines.join('\n')}\n`);
  return family?.metrics[0];
}

/** The label sets of a histogram or summary. */
const seriesOf = (text: string, name: string) =>
  samplesOf(text, [`${name}_count`]).map(([, labels]) => labels);

/**
 * Every sample that may only grow, by series: counters, and the _bucket, _sum and _count of histograms
 * and summaries (summary quantiles may move either way).
 */
function cumulative(text: string): Map<string, number> {
  const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const name = m[1]!;
    const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((f) => types.has(f))!;
    const type = types.get(family);
    const grows =
      type === 'counter' ||
      (type === 'histogram' && name !== family) ||
      (type === 'summary' && name !== family);
    if (grows) out.set(`${name}{${m[2] ?? ''}}`, Number(m[3]));
  }
  return out;
}

/** Exact quantile, interpolated between closest ranks (docs/metrics.md, conventions). */
function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  return sorted[lo]! + (sorted[Math.ceil(pos)]! - sorted[lo]!) * (pos - lo);
}

interface Scrape {
  status: number;
  contentType: string | null;
  text: string;
  families: PromFamily[];
  family(name: string): PromFamily;
  /** The sample of a counter or gauge with exactly these labels; undefined when absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** The samples of a histogram or summary with exactly these labels. */
  series(name: string, labels: Record<string, string>): PromSample;
}

describe.each(engines)('Prometheus /metrics on $name', (engine) => {
  let server: TestServer;
  let app: Awaited<ReturnType<typeof createDeployableApp>>;
  let v1: string;
  let v2: string;
  let broken: string;
  const prod: Record<string, Deployment> = {};
  let rollback: Deployment;
  let incident: Incident;

  /** GET /metrics over HTTP; with the admin token unless another `authorization` (or null: none). */
  const scrape = async (authorization: string | null = `Bearer ${server.token}`): Promise<Scrape> => {
    const res = await fetch(`${server.url}/metrics`, {
      headers: authorization === null ? {} : { authorization },
    });
    const text = await res.text();
    const families = res.status === 200 ? parsePrometheusTextFormat(text) : [];
    const family = (name: string) => {
      const f = families.find((x) => x.name === name);
      if (!f) throw new Error(`no family ${name} in:\n${text}`);
      return f;
    };
    return {
      status: res.status,
      contentType: res.headers.get('content-type'),
      text,
      families,
      family,
      value(name, labels = {}) {
        const s = family(name).metrics.find((m) => sameLabels(m.labels ?? {}, labels));
        return s === undefined ? undefined : Number(s.value);
      },
      series(name, labels) {
        family(name);
        const s = parseSeries(text, name, labels);
        if (!s) throw new Error(`no ${name}${JSON.stringify(labels)} in:\n${text}`);
        return s;
      },
    };
  };

  const deploy = async (env: string, sha: string) => {
    const res = await server.api<Deployment>('POST', '/api/apps/shop/deployments', {
      env,
      ref: sha,
      confirm: true,
    });
    expect(res.status).toBe(201);
    const done = await deploymentDone(server, res.body.id);
    expect(done.status).toBe('succeeded');
    return done;
  };

  beforeAll(async () => {
    server = await startTestServer(engine);
    app = await createDeployableApp(server, await envPorts(), { healthTimeout: '5s' });
    v1 = app.v1;
    expect((await deployedTo(server, 'qa', v1)).status).toBe('succeeded');
    await deploy('staging', v1);
    prod.v1 = await deploy('production', v1);

    v2 = await app.pushFiles({ VERSION: 'v2' }, 'v2');
    await server.api('POST', '/api/apps/shop/sync');
    expect((await deployedTo(server, 'qa', v2)).status).toBe('succeeded');
    await deploy('staging', v2);
    prod.v2 = await deploy('production', v2);

    const rb = await server.api<Deployment>('POST', '/api/apps/shop/environments/production/rollback', {
      confirm: true,
    });
    expect(rb.status).toBe(201);
    rollback = await deploymentDone(server, rb.body.id);
    expect(rollback).toMatchObject({ status: 'succeeded', trigger: 'rollback', sha: v1 });

    // A build that succeeds but whose deployment fails its health check.
    broken = await app.pushFiles({ VERSION: 'broken-v3' }, 'broken');
    await server.api('POST', '/api/apps/shop/sync');
    expect((await deployedTo(server, 'qa', broken)).status).toBe('failed');
    // Refused at once: the environment is not declared.
    const moon = await server.api<Deployment>('POST', '/api/apps/shop/deployments', { env: 'moon', ref: v1 });
    expect(moon.body.status).toBe('rejected');

    const opened = await server.api<Incident>('POST', '/api/incidents', {
      app: 'shop',
      env: 'production',
      title: 'Checkout answers 500',
    });
    expect(opened.status).toBe(201);
    incident = opened.body;

    // Toggle evaluations as an SDK reports them, twice.
    await server.api('POST', '/api/apps/shop/toggles', { name: 'checkout' });
    const token = await clientToken(server, 'shop', 'production');
    for (const counts of [
      { yes: 3, no: 1 },
      { yes: 2, no: 0 },
    ]) {
      const now = new Date().toISOString();
      const res = await sdkFetch(server, '/api/client/metrics', token, {
        method: 'POST',
        body: {
          appName: 'web',
          instanceId: 'i-1',
          bucket: { start: now, stop: now, toggles: { checkout: counts } },
        },
      });
      expect(res.status).toBe(202);
    }
    await server.gantry.clientApi.metrics.flush();
  }, 240_000);
  afterAll(async () => server?.close());

  it('takes an admin or a metrics token; a metrics token may read the metrics and nothing else', async () => {
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape('Bearer nope')).status).toBe(401);
    const hook = await server.api<{ token: string }>('POST', '/api/tokens', {
      name: 'h',
      role: 'hook',
      app: 'shop',
    });
    expect((await scrape(`Bearer ${hook.body.token}`)).status).toBe(403);
    const client = await clientToken(server, 'shop', 'qa');
    expect((await scrape(client)).status).toBe(403);

    const created = await server.api<{ token: string }>('POST', '/api/tokens', {
      name: 'prometheus',
      role: 'metrics',
    });
    expect(created.status).toBe(201);
    const metrics = `Bearer ${created.body.token}`;
    const s = await scrape(metrics);
    expect(s.status).toBe(200);
    expect(s.text).toBe((await scrape()).text);
    const as = (method: string, path: string, body?: object) =>
      fetch(`${server.url}${path}`, {
        method,
        headers: {
          authorization: metrics,
          ...(body && { 'content-type': 'application/json' }),
        },
        ...(body && { body: JSON.stringify(body) }),
      });
    expect((await as('GET', '/api/metrics?app=shop')).status).toBe(200);
    for (const [method, path, body] of [
      ['GET', '/api/metrics/events'],
      ['GET', '/api/apps'],
      ['GET', '/api/incidents'],
      ['GET', '/api/events'],
      ['POST', '/api/tokens', { name: 'escalate', role: 'admin' }],
      ['POST', '/api/incidents', { app: 'shop', env: 'qa' }],
      ['POST', '/api/apps/shop/environments/production/rollback', { confirm: true }],
    ] as const) {
      const res = await as(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(((await res.json()) as { message: string }).message).toContain(
        'it has metrics-reader on every app',
      );
    }
    // The scrape has no POST: an unknown route, for a metrics token as for any other.
    expect((await as('POST', '/metrics')).status).toBe(404);
    // A role is bound to an environment of one app, never to an environment alone.
    const refused = await server.api('POST', '/api/tokens', {
      name: 'x',
      role: 'metrics',
      env: 'production',
    });
    expect(refused.status).toBe(400);
  });

  it("answers valid text exposition with prom-client's content type, the same on every scrape", async () => {
    const s = await scrape();
    expect(s.status).toBe(200);
    expect(s.contentType).toBe(register.contentType);
    checkExposition(s.text);
    expect(s.families.map((f) => [f.name, f.type])).toEqual([
      ['gantry_deployments_total', 'COUNTER'],
      ['gantry_build_duration_seconds', 'HISTOGRAM'],
      ['gantry_build_queue_seconds', 'HISTOGRAM'],
      ['gantry_rollback_duration_seconds', 'HISTOGRAM'],
      ['gantry_commits_delivered_total', 'COUNTER'],
      ['gantry_lead_time_p50_seconds', 'GAUGE'],
      ['gantry_lead_time_p90_seconds', 'GAUGE'],
      ['gantry_lead_time_p95_seconds', 'GAUGE'],
      ['gantry_lead_time_window_commits', 'GAUGE'],
      ['gantry_incidents_open', 'GAUGE'],
      ['gantry_toggle_evaluations_total', 'COUNTER'],
      ['gantry_build_slo_seconds', 'GAUGE'],
      ['gantry_rollback_slo_seconds', 'GAUGE'],
      ['gantry_releases_total', 'COUNTER'],
    ]);
    // Filled from the database each time: nothing accumulates in memory between scrapes.
    expect((await scrape()).text).toBe(s.text);
  });

  it('counts every finished deployment by app, env, kind and result', async () => {
    const s = await scrape();
    const counted = s
      .family('gantry_deployments_total')
      .metrics.map((m) => ({ ...m.labels, n: Number(m.value) }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(counted).toEqual(
      [
        { app: 'shop', env: 'moon', kind: 'change', result: 'rejected', n: 1 },
        { app: 'shop', env: 'production', kind: 'change', result: 'succeeded', n: 2 },
        { app: 'shop', env: 'production', kind: 'rollback', result: 'succeeded', n: 1 },
        { app: 'shop', env: 'qa', kind: 'change', result: 'failed', n: 1 },
        { app: 'shop', env: 'qa', kind: 'change', result: 'succeeded', n: 2 },
        { app: 'shop', env: 'staging', kind: 'change', result: 'succeeded', n: 2 },
      ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    const { body: all } = await server.api<Deployment[]>('GET', '/api/deployments?app=shop&limit=1000');
    expect(counted.reduce((sum, c) => sum + c.n, 0)).toBe(all.length);
  });

  it('has cumulative build histograms whose counts are the finished builds', async () => {
    const s = await scrape();
    const builds = (await buildsOf(server)).filter(
      (b): b is Build & { startedAt: string; finishedAt: string } =>
        ['succeeded', 'failed', 'interrupted'].includes(b.status) && !!b.startedAt && !!b.finishedAt,
    );
    expect(builds).toHaveLength(3);
    const secs = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / 1000;

    const duration = s.series('gantry_build_duration_seconds', { app: 'shop', result: 'succeeded' });
    const durations = builds.map((b) => secs(b.startedAt, b.finishedAt));
    expect(Number(duration.count)).toBe(3);
    expect(Number(duration.sum)).toBeCloseTo(
      durations.reduce((a, b) => a + b, 0),
      3,
    );
    for (const le of BUILD_DURATION_BUCKETS)
      expect(Number(duration.buckets![String(le)]), `le=${le}`).toBe(durations.filter((d) => d <= le).length);
    expect(duration.buckets!['+Inf']).toBe(duration.count);

    const queue = s.series('gantry_build_queue_seconds', { app: 'shop' });
    const queued = builds.map((b) => secs(b.queuedAt, b.startedAt));
    expect(Number(queue.count)).toBe(3);
    expect(Number(queue.sum)).toBeCloseTo(
      queued.reduce((a, b) => a + b, 0),
      3,
    );
    for (const le of BUILD_QUEUE_BUCKETS)
      expect(Number(queue.buckets![String(le)]), `le=${le}`).toBe(queued.filter((d) => d <= le).length);

    for (const f of s.families.filter((x) => x.type === 'HISTOGRAM'))
      for (const labels of seriesOf(s.text, f.name)) {
        const m = s.series(f.name, labels);
        const les = Object.keys(m.buckets!).sort((a, b) => Number(a) - Number(b));
        expect(les.at(-1)).toBe('+Inf');
        const counts = les.map((le) => Number(m.buckets![le]));
        expect(counts, `${f.name} is cumulative`).toEqual([...counts].sort((a, b) => a - b));
        expect(counts.at(-1)).toBe(Number(m.count));
      }
  });

  it('has a rollback time histogram with one observation per rollback, and the SLOs', async () => {
    const s = await scrape();
    expect(seriesOf(s.text, 'gantry_rollback_duration_seconds')).toHaveLength(1);
    const rb = s.series('gantry_rollback_duration_seconds', {
      app: 'shop',
      env: 'production',
      result: 'succeeded',
    });
    const took = (Date.parse(rollback.finishedAt!) - Date.parse(rollback.requestedAt)) / 1000;
    expect(Number(rb.count)).toBe(1);
    expect(Number(rb.sum)).toBeCloseTo(took, 3);
    for (const le of ROLLBACK_DURATION_BUCKETS)
      expect(Number(rb.buckets![String(le)]), `le=${le}`).toBe(took <= le ? 1 : 0);
    expect(rb.buckets!['+Inf']).toBe('1');

    expect(s.value('gantry_build_slo_seconds', { app: 'shop' })).toBe(600);
    expect(s.value('gantry_rollback_slo_seconds')).toBe(60);
  });

  it('gives lead time over the last 28 days as gauges with exact quantiles, and counts delivered commits', async () => {
    const s = await scrape();
    expect(s.family('gantry_lead_time_p50_seconds').help).toContain('last 28 days');
    const shop = await server.gantry.apps.get('shop');
    const commits = await server.gantry.database.db
      .selectFrom('commits')
      .select(['sha', 'committed_at'])
      .where('app_id', '=', shop.id)
      .execute();
    // gantry.yaml's commit and v1 reached production with v1, v2 with v2; the broken commit never did.
    expect(commits).toHaveLength(4);
    const leads = commits
      .filter((c) => c.sha !== broken)
      .map((c) => {
        const by = c.sha === v2 ? prod.v2! : prod.v1!;
        return (Date.parse(by.finishedAt!) - Date.parse(c.committed_at)) / 1000;
      })
      .sort((a, b) => a - b);
    const prodLabels = { app: 'shop', env: 'production' };
    expect(s.value('gantry_lead_time_window_commits', prodLabels)).toBe(3);
    for (const [name, q] of [
      ['p50', 0.5],
      ['p90', 0.9],
      ['p95', 0.95],
    ] as const)
      expect(s.value(`gantry_lead_time_${name}_seconds`, prodLabels)).toBeCloseTo(quantile(leads, q), 3);
    for (const env of ['qa', 'staging']) {
      expect(s.value('gantry_lead_time_window_commits', { app: 'shop', env })).toBe(3);
      expect(s.value('gantry_commits_delivered_total', { app: 'shop', env })).toBe(3);
    }
    // Every commit is delivered once per environment, whatever the rollbacks.
    expect(s.value('gantry_commits_delivered_total', prodLabels)).toBe(3);
  });

  it('counts toggle evaluations reported by SDKs', async () => {
    const s = await scrape();
    const labels = { app: 'shop', env: 'production', toggle: 'checkout' };
    expect(s.value('gantry_toggle_evaluations_total', { ...labels, result: 'yes' })).toBe(5);
    expect(s.value('gantry_toggle_evaluations_total', { ...labels, result: 'no' })).toBe(1);
    expect(s.family('gantry_toggle_evaluations_total').metrics).toHaveLength(2);
  });

  it('shows open incidents, down to 0 once resolved', async () => {
    const before = await scrape();
    expect(before.value('gantry_incidents_open', { app: 'shop', env: 'production' })).toBe(1);
    expect(before.value('gantry_incidents_open', { app: 'shop', env: 'qa' })).toBe(0);
    const resolved = await server.api('POST', `/api/incidents/${incident.id}/resolve`);
    expect(resolved.status).toBe(200);
    const after = await scrape();
    expect(after.value('gantry_incidents_open', { app: 'shop', env: 'production' })).toBe(0);
    checkExposition(after.text);
  });
  it.runIf(PROMTOOL)("passes `promtool check metrics` (Prometheus's own linter)", async () => {
    const s = await scrape();
    const res = spawnSync(PROMTOOL!, ['check', 'metrics'], { input: s.text, encoding: 'utf8' });
    expect(`${res.stdout}${res.stderr}`).toBe('');
    expect(res.status).toBe(0);
  });

  it('only grows its counters, histograms and summaries: new deployments, and a month later', async () => {
    const exporter = (now: number) =>
      new PrometheusExporter({
        db: server.gantry.database.db,
        apps: server.gantry.apps,
        metrics: server.gantry.metrics,
        now: () => now,
      });
    const text = async (now: number) => (await exporter(now).collect()).metrics();
    const before = cumulative(await text(Date.now()));
    expect(before.size).toBeGreaterThan(20);

    const v4 = await app.pushFiles({ VERSION: 'v4' }, 'v4');
    await server.api('POST', '/api/apps/shop/sync');
    expect((await deployedTo(server, 'qa', v4)).status).toBe('succeeded');
    await deploy('staging', v4);
    await deploy('production', v4);
    const rb = await server.api<Deployment>('POST', '/api/apps/shop/environments/production/rollback', {
      confirm: true,
    });
    expect((await deploymentDone(server, rb.body.id)).status).toBe('succeeded');

    // Now, and 29 days on: the lead-time window holds no commit any more, and nothing may go down.
    for (const later of [Date.now(), Date.now() + 29 * 86_400_000]) {
      const after = await text(later);
      checkExposition(after);
      const grown = cumulative(after);
      for (const [series, value] of before)
        expect(
          grown.get(series),
          `${series} went from ${value} to ${grown.get(series)}`,
        ).toBeGreaterThanOrEqual(value);
    }
    const month = await text(Date.now() + 29 * 86_400_000);
    expect(month).toMatch(/^gantry_lead_time_window_commits\{app="shop",env="production"\} 0$/m);
    expect(month).not.toMatch(/^gantry_lead_time_p50_seconds\{app="shop",env="production"\}/m);
    // gantry.yaml's commit, v1, v2, and with v4 the broken commit under it.
    expect(month).toMatch(/^gantry_commits_delivered_total\{app="shop",env="production"\} 5$/m);
  });
});
