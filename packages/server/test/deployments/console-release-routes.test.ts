import type { Deployment } from '@gantry/contracts';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployableApp, deployedTo, deploymentDone, envPorts } from '../support/deploy-fixture.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

interface OpenApiDoc {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content: { 'application/json': { schema: object } } }> }>
  >;
}

let server: TestServer;
let app: Awaited<ReturnType<typeof createDeployableApp>>;
let doc: OpenApiDoc;
let v2: string;
const ajv = new Ajv({ strict: false, allErrors: true });

/** GETs a route and checks the answer against what the OpenAPI document declares for it. */
async function get<T>(template: string, url: string, status = 200): Promise<T> {
  const res = await server.api<T>('GET', url);
  expect(res.status, `${url}: ${JSON.stringify(res.body)}`).toBe(status);
  if (status === 200) {
    const validate = ajv.compile(
      doc.paths[template]!.get!.responses['200']!.content['application/json'].schema,
    );
    expect(validate(res.body), `${url}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  }
  return res.body;
}

async function deploy(env: string, ref: string): Promise<Deployment> {
  const r = await server.api<Deployment>('POST', '/api/apps/shop/deployments', { env, ref, confirm: true });
  return deploymentDone(server, r.body.id);
}

beforeAll(async () => {
  server = await startTestServer();
  doc = (await server.api<OpenApiDoc>('GET', '/api/openapi.json')).body;
  app = await createDeployableApp(server, await envPorts());
  await deployedTo(server, 'qa', app.v1);
  await deploy('staging', app.v1);
  v2 = await app.pushFiles({ VERSION: 'v2' }, 'Say v2\n\nlonger text');
  await server.api('POST', '/api/apps/shop/sync');
  await deployedTo(server, 'qa', v2);
}, 180_000);

afterAll(async () => {
  await server?.close();
  await cleanupAll();
});

describe('the console routes for promotion, rollback choices, timelines and config differences', () => {
  it('previews a promotion: the upstream SHA, its artifact and exactly the commits that go out', async () => {
    type P = {
      from: string;
      sha: string;
      currentSha: string;
      artifact: { digest: string };
      commits: { sha: string; subject: string }[];
      refused: string | null;
      protected: boolean;
    };
    const p = await get<P>(
      '/api/apps/{app}/environments/{env}/promotion',
      '/api/apps/shop/environments/staging/promotion',
    );
    expect(p).toMatchObject({ from: 'qa', sha: v2, currentSha: app.v1, refused: null, protected: false });
    expect(p.commits).toEqual([expect.objectContaining({ sha: v2, subject: 'Say v2' })]);
    const qa = (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa&status=succeeded'))
      .body;
    expect(p.artifact.digest).toBe(qa.find((d) => d.sha === v2)?.digest);
    // Production promotes from staging, which runs v1; production runs nothing: v1 and the first commit go out.
    const prod = await get<P>(
      '/api/apps/{app}/environments/{env}/promotion',
      '/api/apps/shop/environments/production/promotion',
    );
    expect(prod).toMatchObject({ from: 'staging', sha: app.v1, currentSha: null, protected: true });
    expect(prod.commits?.[0]?.sha).toBe(app.v1);
    const none = await server.api<{ message: string }>('GET', '/api/apps/shop/environments/qa/promotion');
    expect(none.status).toBe(400);
    expect(none.body.message).toContain('no promote_from');
  });

  it('lists the board extras: commits waiting upstream and the warm standby', async () => {
    type B = {
      env: string;
      waiting: number | null;
      standby: { sha: string } | null;
      promoteFrom: string | null;
    }[];
    const board = await get<B>('/api/board', '/api/board');
    const of = (env: string) => board.find((b) => b.env === env);
    expect(of('staging')).toMatchObject({ promoteFrom: 'qa', waiting: 1 });
    expect(of('qa')).toMatchObject({ promoteFrom: null, waiting: null, standby: { sha: app.v1 } });
    expect(of('production')).toMatchObject({ waiting: 2, standby: null });
  });

  it('offers earlier releases to roll back to, the warm standby marked instant, and times a rollback against its SLO', async () => {
    type C = {
      currentSha: string;
      suggested: { sha: string | null };
      choices: { sha: string; instant: boolean; artifact: boolean; commit: { subject: string } | null }[];
    };
    const c = await get<C>(
      '/api/apps/{app}/environments/{env}/rollback-choices',
      '/api/apps/shop/environments/qa/rollback-choices',
    );
    expect(c).toMatchObject({ currentSha: v2, suggested: { sha: app.v1 } });
    expect(c.choices).toEqual([
      expect.objectContaining({
        sha: app.v1,
        instant: true,
        artifact: true,
        commit: expect.objectContaining({ subject: 'v1' }),
      }),
    ]);
    const empty = await get<C>(
      '/api/apps/{app}/environments/{env}/rollback-choices',
      '/api/apps/shop/environments/production/rollback-choices',
    );
    expect(empty).toMatchObject({ currentSha: null, suggested: { sha: null }, choices: [] });

    const rb = await server.api<Deployment>('POST', '/api/apps/shop/environments/qa/rollback', {});
    expect(rb.status).toBe(201);
    const done = await deploymentDone(server, rb.body.id);
    expect(done.status).toBe('succeeded');
    type T = {
      deployment: Deployment;
      commit: { sha: string };
      previousCommit: { sha: string };
      totalMs: number;
      rollbackSloMs: number | null;
    };
    const t = await get<T>('/api/deployments/{id}/timeline', `/api/deployments/${done.id}/timeline`);
    expect(t).toMatchObject({ commit: { sha: app.v1 }, previousCommit: { sha: v2 }, rollbackSloMs: 60_000 });
    expect(t.totalMs).toBeGreaterThanOrEqual(0);
    const first = (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=staging')).body[0]!;
    expect(
      (await get<T>('/api/deployments/{id}/timeline', `/api/deployments/${first.id}/timeline`)).rollbackSloMs,
    ).toBeNull();
    expect((await server.api('GET', '/api/deployments/dep_nope/timeline')).status).toBe(404);
  });

  it("compares two environments' config at the SHAs they run", async () => {
    type D = {
      a: { sha: string; running: boolean };
      b: { running: boolean };
      differences: { key: string; a: string | null; b: string | null }[];
    };
    const d = await get<D>(
      '/api/apps/{app}/environments/{env}/config-diff',
      '/api/apps/shop/environments/qa/config-diff?with=staging',
    );
    expect(d.a).toMatchObject({ running: true });
    expect(d.b.running).toBe(true);
    expect(d.differences).toContainEqual({ key: 'config.GREETING', a: 'hello-qa', b: 'hello-staging' });
    expect(d.differences).toContainEqual({ key: 'promote_from', a: null, b: 'qa' });
    expect(d.differences.map((x) => x.key)).not.toContain('run.command');
    const bad = await server.api<{ message: string }>(
      'GET',
      '/api/apps/shop/environments/qa/config-diff?with=nowhere',
    );
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('not declared');
  });
});
