import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Deployment } from '@gantry/contracts';
import type { MetricsInput, MetricsReport } from '@gantry/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDeployableApp,
  deployedTo,
  envPorts,
  SERVER_JS,
} from '../../server/test/support/deploy-fixture.js';
import { cleanupAll } from '../../server/test/support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { type CliSandbox, makeCliSandbox } from './support/run-cli.js';

let server: TestServer;
let cli: CliSandbox;
let v2: Deployment;
let rollback: Deployment;
let from: string;
let to: string;
let app: Awaited<ReturnType<typeof createDeployableApp>>;

beforeAll(async () => {
  from = new Date(Date.now() - 86_400_000).toISOString();
  server = await startTestServer();
  app = await createDeployableApp(server, await envPorts());
  await deployedTo(server, 'qa', app.v1);
  const sha2 = await app.pushFiles({ 'server.js': SERVER_JS, VERSION: 'v2' }, 'v2');
  await server.api('POST', '/api/apps/shop/sync');
  v2 = await deployedTo(server, 'qa', sha2);
  cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
  const rb = await cli.run(['rollback', 'qa', '--json']);
  expect(rb.code, rb.stderr).toBe(0);
  rollback = await deployedTo(server, 'qa', app.v1);
  expect(rollback.trigger).toBe('rollback');
  const inc = await cli.run(['incident', 'open', '--env', 'qa', '--deployment', v2.id]);
  expect(inc.code, inc.stderr).toBe(0);
  to = new Date(Date.now() + 60_000).toISOString();
}, 120_000);

afterAll(async () => {
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

describe('gantry metrics', () => {
  it('reports the real history: deployments, the rollback, the failure and the lead times', async () => {
    const r = await cli.json<MetricsReport>(['metrics', '--env', 'qa', '--from', from, '--to', to, '--json']);
    expect(r.deploymentFrequency).toMatchObject({ deployments: 3, rollbacks: 1 });
    expect(r.changeFailureRate).toMatchObject({ failed: 1, deployments: 3, failedIds: [v2.id] });
    expect(r.reworkRate).toMatchObject({
      remediating: 1,
      byKind: { rollback: 1, revert: 0, 'fix-forward': 0 },
    });
    // gantry.yaml, v1 and v2: each commit once, however often it was deployed.
    expect(r.leadTime.n).toBe(3);
    expect(r.rollbackTime).toMatchObject({ n: 1, failed: 0, withinSlo: 1, breaches: [] });
    expect(r.recoveryTime.recoveries).toEqual([
      expect.objectContaining({ deploymentId: v2.id, recoveredAt: Date.parse(rollback.finishedAt!) }),
    ]);
    expect(r.timeToRestore.open).toHaveLength(1);

    const table = await cli.run(['metrics', '--env', 'qa', '--from', from, '--to', to]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^shop \/ qa: /);
    expect(table.stdout).toMatch(/Change failure rate\s+33\.3% \(1 of 3\)\s+low/);
    // A day is too short a window for a band; the raw rate is beside it, in the report's unit.
    expect(table.stdout).toMatch(/Deployment frequency\s+— \(the window is shorter than a week\)\s+—\s/);
    expect(table.stdout).toMatch(/Deployments \(raw rate\)\s+3\/day \(3 deployments, 1 of them a rollback\)/);
    expect(table.stdout).toMatch(/Rework rate\s+33\.3% \(1 of 3: 1 rollback, 0 reverts, 0 fix-forwards\)/);
    expect(table.stdout).toMatch(/Time to restore \(incidents\)\s+— median, p90 — \(0 resolved, 1 open\)/);
    expect(table.stdout).toContain('DORA 2023');

    // A week: new code reached qa on one day of it, so "high", whatever the number of deployments.
    const week = await cli.run(['metrics', '--env', 'qa', '--days', '7']);
    expect(week.code, week.stderr).toBe(0);
    expect(week.stdout).toMatch(
      /Deployment frequency\s+1 day\/week with a new change \(median of 1 week; rollbacks not counted\)\s+high\s/,
    );
    expect(week.stdout).toMatch(/Deployments \(raw rate\)\s+3\/week \(3 deployments/);
  });

  it('reads the metrics with a metrics token, which may do nothing else', async () => {
    const created = await cli.run(['token', 'create', 'prometheus', '--role', 'metrics']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain('(metrics) created');
    const token = created.stdout.trim();
    const env = { env: { GANTRY_TOKEN: token } };
    const r = await cli.json<MetricsReport>(
      ['metrics', '--app', 'shop', '--env', 'qa', '--from', from, '--to', to, '--json'],
      env,
    );
    expect(r.deploymentFrequency.deployments).toBe(3);
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const other = await cli.run(['incident', 'list'], env);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain(
      'token "prometheus" may not apps:read: it has metrics-reader on every app',
    );
  });

  it('exports the history and computes the same report from the file', async () => {
    const file = join(cli.cwd, 'history.json');
    const out = await cli.run(['events', 'export', '-o', file]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toMatch(/^wrote .*history\.json: 3 commits, 3 deployments, 1 incident, \d+ builds/);
    const exported = JSON.parse(await readFile(file, 'utf8')) as MetricsInput;
    expect(exported.deployments.map((d) => d.id)).toContain(rollback.id);

    const args = ['metrics', '--env', 'qa', '--from', from, '--to', to, '--json'];
    const fromServer = await cli.json<MetricsReport>(args);
    const fromFile = await cli.json<MetricsReport>([...args, '--events', file]);
    expect(fromFile).toEqual(fromServer);
  });

  it('writes the HTML report with every chart', async () => {
    const page = join(cli.cwd, 'report.html');
    const res = await cli.run(['report', '--html', page, '--env', 'qa', '--from', from, '--to', to]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^wrote .*report\.html: shop\/qa, .*3 deployments/);
    const html = await readFile(page, 'utf8');
    for (const chart of [
      'deployments',
      'lead-time',
      'change-failure-rate',
      'recovery',
      'build-time',
      'rollback-time',
    ])
      expect(html).toContain(`data-chart="${chart}"`);
    expect(html).not.toMatch(/<script|NaN|Infinity/);
  });

  it('says what is wrong with bad input and computes nothing', async () => {
    const bad = join(cli.cwd, 'bad.json');
    await writeFile(bad, '{"commits": [], "deployments": [{"id": "d1", "app": "shop"}], "deploys": []}');
    const res = await cli.run(['metrics', '--events', bad]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('unknown kind of event "deploys"');
    expect(res.stderr).toContain('deployments[0] (id "d1"): env: missing');
    expect(res.stdout).toBe('');

    const env = await cli.run(['metrics', '--env', 'moon']);
    expect(env.code).not.toBe(0);
    expect(env.stderr).toContain(
      'app "shop" has no environment "moon"; its environments: qa, staging, production',
    );
    const window = await cli.run(['metrics', '--env', 'qa', '--from', to, '--to', from]);
    expect(window.stderr).toContain('the window is empty');
    const bucket = await cli.run(['metrics', '--bucket', 'year']);
    expect(bucket.stderr).toContain('--bucket must be day, week or month, got "year"');
    const missing = await cli.run(['metrics', '--events', join(cli.cwd, 'nope.json')]);
    expect(missing.stderr).toContain('no such file');
  });
});

describe('gantry deploy --remediates', () => {
  it('links a deployment to the failed one it fixes, and refuses a deployment of elsewhere', async () => {
    const bad = await cli.run(['deploy', 'qa', 'HEAD', '--remediates', 'dep_nope', '--no-follow']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('remediates dep_nope: no such deployment; name a deployment of shop/qa');
    const before = await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa&limit=50');

    const res = await cli.json<Deployment>(['deploy', 'qa', 'HEAD', '--remediates', v2.id, '--json']);
    expect(res.remediates).toBe(v2.id);
    const after = await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa&limit=50');
    expect(after.body.length).toBe(before.body.length + 1);
    const exported = await cli.json<MetricsInput>(['events', 'export']);
    expect(exported.deployments.find((d) => d.id === res.id)?.remediates).toBe(v2.id);
  });
});

describe('a deploy tag pushed by hand', () => {
  it('links its deployment with a Remediates: line, and deploys anyway when the link is wrong', async () => {
    await app.work.run(['tag', '-a', 'deploy/qa/fix', '-m', `Fix it\n\nRemediates: ${v2.id}`, app.v1]);
    await app.work.run(['tag', '-a', 'deploy/qa/typo', '-m', 'Fix it\n\nRemediates: dep_typo', app.v1]);
    await app.work.run(['push', 'origin', '--tags']);
    const shop = await server.gantry.apps.get('shop');
    const mirror = server.gantry.apps.mirrorOf(shop);
    await mirror.fetch();
    const scanned = await server.gantry.tagDeployer.scan(shop, mirror, app.v1, false);
    const byTag = new Map(scanned.map((d) => [d.tag, d]));
    expect(byTag.get('deploy/qa/fix')).toMatchObject({ remediates: v2.id, status: 'queued' });
    expect(byTag.get('deploy/qa/typo')).toMatchObject({
      remediates: null,
      status: 'queued',
      reason: expect.stringContaining(
        'the Remediates: trailer was ignored: remediates dep_typo: no such deployment',
      ),
    });
  });
});
