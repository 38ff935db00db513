import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/event-bus.js';
import {
  type MetricsInput,
  type MetricsReport,
  pooledReportFromEvents,
  reportFromEvents,
} from '../../src/features/metrics/engine/index.js';
import { MetricsLedger, recordInBulk } from '../../src/features/metrics/metrics-ledger.js';
import { engines } from '../support/engines.js';
import { seedHistory } from '../support/metrics-seed.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { at, commit, DAY, deploy, input, randomHistory, T0 } from './fixtures.js';

const iso = (t: number) => new Date(t).toISOString();
const window = { from: iso(T0 + 7 * DAY), to: iso(T0 + 21 * DAY) };

function asApp(h: MetricsInput, app: string): MetricsInput {
  return {
    ...h,
    deployments: h.deployments.map((d) => ({ ...d, id: `${app}-${d.id}`, app })),
    incidents: h.incidents.map((i) => ({ ...i, id: `${app}-${i.id}`, app })),
    builds: h.builds.map((b) => ({ ...b, id: `${app}-${b.id}`, app })),
  };
}

/** The same history with other SHAs (first hex digit `digit`), as another repository would have. */
function reSha(h: MetricsInput, digit: string): MetricsInput {
  const map = (sha: string) => `${digit}${sha.slice(1)}`;
  return {
    ...h,
    commits: h.commits.map((c) => ({
      ...c,
      sha: map(c.sha),
      parents: c.parents.map(map),
      message: c.message?.replace(/[0-9a-f]{40}/g, map),
    })),
    deployments: h.deployments.map((d) => ({ ...d, sha: map(d.sha) })),
  };
}

/** The API's JSON of the engine's own report, for a like-for-like comparison. */
const json = (x: unknown) => JSON.parse(JSON.stringify(x));

describe.each(engines)('metrics from the server on $name', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => {
    await s?.close();
  });

  const query = (app: string, extra = '') =>
    `/api/metrics?app=${app}&env=production&from=${window.from}&to=${window.to}&bucket=week${extra}`;

  it.each([1, 2, 3, 4, 5, 6])(
    'seed %i: the ledger kept in the database gives the report the engine gives from the events',
    async (seed) => {
      const app = `web${seed}`;
      const h = asApp(randomHistory(seed), app);
      await seedHistory(s.gantry.database.db, h);
      const got = await s.api('GET', query(app));
      expect(got.status).toBe(200);
      const expected = await reportFromEvents(h, { app, env: 'production', ...window, bucket: 'week' });
      expect(got.body).toEqual(json(expected));
      expect(
        (got.body as { deploymentFrequency: { deployments: number } }).deploymentFrequency.deployments,
      ).toBe(expected.deploymentFrequency.deployments);
    },
  );

  it('records in bulk exactly what it records one deployment at a time', async () => {
    const db = s.gantry.database.db;
    const h = asApp(randomHistory(11), 'bulk');
    const ids = await seedHistory(db, h);
    const appId = ids.get('bulk')!;
    await s.gantry.metricsLedger.catchUp(appId, 'production');
    const rows = async () => ({
      deployments: await db
        .selectFrom('metric_deployments')
        .selectAll()
        .where('app_id', '=', appId)
        .orderBy('seq')
        .execute(),
      commits: await db
        .selectFrom('metric_commits')
        .selectAll()
        .where('app_id', '=', appId)
        .orderBy('sha')
        .execute(),
    });
    const live = await rows();
    expect(live.deployments.length).toBeGreaterThan(5);
    await s.gantry.metricsLedger.store.forget(appId, 'production');
    const todo = await s.gantry.metricsLedger.store.unrecorded(appId, 'production');
    await recordInBulk(s.gantry.metricsLedger.store, appId, 'production', h.commits, todo, 3);
    expect(await rows()).toEqual(live);
  });

  it('records a long history into an empty ledger at once, with the same result', async () => {
    // 300 deployments: more than the live path takes one by one, so the app's commits are read at once.
    const commits = Array.from({ length: 900 }, (_, i) => commit(i + 1, at(0, 0, i)));
    const deployments = Array.from({ length: 300 }, (_, i) =>
      i % 25 === 24
        ? deploy(`long-${i}`, 3 * i - 3, at(8, 0, i), { app: 'long', trigger: 'rollback' })
        : deploy(`long-${i}`, 3 * i + 3, at(8, 0, i), { app: 'long' }),
    );
    const h: MetricsInput = {
      commits: reSha(input({ commits }), 'c').commits,
      deployments: reSha(input({ deployments }), 'c').deployments,
      incidents: [],
      builds: [],
    };
    await seedHistory(s.gantry.database.db, h);
    const got = await s.api('GET', query('long'));
    const expected = await reportFromEvents(h, { app: 'long', env: 'production', ...window, bucket: 'week' });
    expect(expected.deploymentFrequency).toMatchObject({ deployments: 300, rollbacks: 12 });
    expect(expected.leadTime.n).toBe(897);
    expect(got.body).toEqual(json(expected));
  });

  it('rebuilds the ledger when a deployment that finished earlier arrives late', async () => {
    const h = asApp(randomHistory(21), 'late');
    const late = h.deployments.filter((d) => d.env === 'production' && d.status === 'succeeded').slice(2, 4);
    const early = { ...h, deployments: h.deployments.filter((d) => !late.includes(d)) };
    await seedHistory(s.gantry.database.db, early);
    expect((await s.api('GET', query('late'))).status).toBe(200);
    const recorded = await s.gantry.database.db
      .selectFrom('metric_deployments')
      .select('deployment_id')
      .where('app_id', '=', 'app_seed_late')
      .execute();
    expect(recorded.length).toBeGreaterThan(4);
    await seedHistory(s.gantry.database.db, { commits: [], deployments: late, incidents: [], builds: [] });
    const got = await s.api('GET', query('late'));
    const expected = await reportFromEvents(h, { app: 'late', env: 'production', ...window, bucket: 'week' });
    expect(got.body).toEqual(json(expected));
  });
});

describe.each(engines)('pooled metrics of every app on $name', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('pools every app with the environment, as the engine does from the events', async () => {
    const both = [asApp(randomHistory(31), 'shop'), reSha(asApp(randomHistory(32), 'blog'), 'b')];
    for (const h of both) await seedHistory(s.gantry.database.db, h);
    const got = await s.api<MetricsReport>(
      'GET',
      `/api/metrics?env=production&from=${window.from}&to=${window.to}&bucket=week`,
    );
    expect(got.status).toBe(200);
    const input: MetricsInput = {
      commits: both.flatMap((h) => h.commits),
      deployments: both.flatMap((h) => h.deployments),
      incidents: both.flatMap((h) => h.incidents),
      builds: both.flatMap((h) => h.builds),
    };
    const expected = await pooledReportFromEvents(input, { env: 'production', ...window, bucket: 'week' });
    expect(got.body).toEqual(json(expected));
    const one = await reportFromEvents(both[0]!, {
      app: 'shop',
      env: 'production',
      ...window,
      bucket: 'week',
    });
    const other = await reportFromEvents(both[1]!, {
      app: 'blog',
      env: 'production',
      ...window,
      bucket: 'week',
    });
    expect(got.body.app).toBe('all apps');
    expect(got.body.changeFailureRate.deployments).toBe(
      one.changeFailureRate.deployments + other.changeFailureRate.deployments,
    );
    expect(got.body.changeFailureRate.failed).toBe(
      one.changeFailureRate.failed + other.changeFailureRate.failed,
    );
    expect(got.body.leadTime.n).toBe(one.leadTime.n + other.leadTime.n);
  });
});

describe.each(engines)('two ledgers on one database ($name)', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('record the same deployments at once without failing or recording twice', async () => {
    const h = asApp(randomHistory(41), 'twice');
    const ids = await seedHistory(s.gantry.database.db, h);
    const appId = ids.get('twice')!;
    // A second server's ledger: same database, its own event bus.
    const other = new MetricsLedger({
      db: s.gantry.database.db,
      store: s.gantry.metricsLedger.store,
      bus: new EventBus(),
      logger: s.gantry.logger,
    });
    await Promise.all([
      s.gantry.metricsLedger.catchUp(appId, 'production'),
      other.catchUp(appId, 'production'),
      other.catchUp(appId, 'production'),
    ]);
    await other.close();
    const rows = await s.gantry.database.db
      .selectFrom('metric_deployments')
      .select(['deployment_id', 'seq'])
      .where('app_id', '=', appId)
      .orderBy('seq')
      .execute();
    const succeeded = h.deployments.filter((d) => d.env === 'production' && d.status === 'succeeded');
    expect(rows.map((r) => Number(r.seq))).toEqual(succeeded.map((_, i) => i + 1));
    expect(new Set(rows.map((r) => r.deployment_id)).size).toBe(succeeded.length);
    const got = await s.api(
      'GET',
      `/api/metrics?app=twice&env=production&from=${window.from}&to=${window.to}`,
    );
    expect(got.body).toEqual(
      json(await reportFromEvents(h, { app: 'twice', env: 'production', ...window, bucket: 'week' })),
    );
  });
});
