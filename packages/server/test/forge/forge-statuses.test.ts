import type { Deployment } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery } from '../../src/features/notifications/notification-schemas.js';
import { type Received, type Receiver, startReceiver } from '../notifications/receiver.js';
import { createApp } from '../support/app-fixture.js';
import {
  type DeployYamlOptions,
  deployYaml,
  envPorts,
  FINISHED_DEPLOYMENT,
  SERVER_JS,
} from '../support/deploy-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';
import { conform, type Endpoint, giteaEndpoints, githubEndpoints, gitlabEndpoints } from './forge-formats.js';

afterAll(cleanupAll);

/** A deployable app of its own name whose v1 is deployed to qa before the forge is set. */
async function deployableApp(server: TestServer, name: string, opts: DeployYamlOptions = {}) {
  const ports = await envPorts();
  const yaml = deployYaml(ports, opts);
  const app = await createApp(server, yaml, { name, register: false });
  await app.pushFiles({ 'server.js': SERVER_JS, VERSION: 'v1' }, 'v1');
  const res = await server.api<{ headSha: string }>('POST', '/api/apps', { name, repoUrl: app.bare.dir });
  expect(res.status).toBe(201);
  await deployed(server, name, 'qa', res.body.headSha);
  return { ...app, yaml, v1: res.body.headSha };
}

/** Waits for the deployment of `sha` to `env` to finish and for its checks, if any, to end. */
async function deployed(server: TestServer, app: string, env: string, sha: string): Promise<Deployment> {
  return waitFor(
    async () => {
      const list = (await server.api<Deployment[]>('GET', `/api/deployments?app=${app}&env=${env}&limit=50`))
        .body;
      const d = list.find((x) => x.sha === sha && x.trigger !== 'auto-rollback');
      if (!d || !FINISHED_DEPLOYMENT.includes(d.status)) return undefined;
      return d.verification === 'verifying' ? undefined : d;
    },
    `${app}: a deployment of ${sha} to ${env}`,
    90_000,
  );
}

/** Pushes a commit, tells the server, and returns its SHA. */
async function push(
  server: TestServer,
  app: Awaited<ReturnType<typeof deployableApp>>,
  name: string,
  files: Record<string, string>,
) {
  const sha = await app.pushFiles(files, `change ${Object.keys(files).join(' ')}`);
  await server.api('POST', `/api/apps/${name}/sync`);
  return sha;
}

/** The documented endpoint, state and context (or name) of each request about `sha`, in arrival order. */
function about(requests: Received[], endpoints: Endpoint[], sha: string, deploymentIds: Set<string>) {
  return requests
    .map((r) => ({ r, ...conform(r, endpoints) }))
    .filter(
      ({ r, body }) =>
        r.url.includes(sha) ||
        body.sha === sha ||
        body.ref === sha ||
        [...deploymentIds].some((id) => r.url.includes(`/deployments/${id}`)),
    )
    .map(({ endpoint, body }) => [
      endpoint,
      String(body.state ?? body.status ?? ''),
      String(body.context ?? body.name ?? body.environment ?? ''),
    ]);
}

describe.each(engines)('commit statuses and deployments back to the forge on $name', (engine) => {
  let server: TestServer;
  const receivers: Receiver[] = [];
  const forgeReceiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };
  const deliveries = async (app: string) =>
    (await server.api<Delivery[]>('GET', `/api/apps/${app}/forge/deliveries?limit=500`)).body;

  beforeAll(async () => {
    server = await startTestServer(engine, { webhookBackoffMs: 50 });
  });
  afterAll(async () => {
    await server?.close();
    for (const r of receivers) await r.close();
  });

  it('GitHub: statuses for the build and the environment, and a deployment with its statuses through the checks', async () => {
    const app = await deployableApp(server, 'gh', {
      qa: 'checks: [{ name: home, http: { path: /, expect_status: 200 } }]',
    });
    const gh = await forgeReceiver();
    let nextId = 4200;
    const ids = new Set<string>();
    gh.answer((r) => {
      if (r.method === 'POST' && /\/deployments$/.test(r.url)) {
        const id = ++nextId;
        ids.add(String(id));
        // GitHub's answer is long (creator, payload, URLs): the id must be read past the log's excerpt.
        return {
          status: 201,
          body: JSON.stringify({ url: `https://api.github.com/x/${id}`, padding: 'x'.repeat(4000), id }),
        };
      }
      return { status: 201, body: '{}' };
    });
    const put = await server.api<{ forge: Record<string, unknown> }>('PUT', '/api/apps/gh/forge', {
      provider: 'github',
      apiUrl: gh.url,
      repo: 'acme/gh-shop',
      token: 'ghp_test_token_1',
      productionEnvironments: ['qa'],
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);

    const v2 = await push(server, app, 'gh', { VERSION: 'v2' });
    const qa = await deployed(server, 'gh', 'qa', v2);
    expect(qa).toMatchObject({ status: 'succeeded', verification: 'verified' });
    const endpoints = githubEndpoints('acme', 'gh-shop');
    await waitFor(async () => {
      const seen = about(gh.requests, endpoints, v2, ids);
      return seen.length >= 14 ? seen : undefined;
    }, 'the fourteen calls about v2');
    expect(about(gh.requests, endpoints, v2, ids)).toEqual([
      ['status', 'pending', 'gantry/build'],
      ['status', 'pending', 'gantry/build'],
      ['status', 'success', 'gantry/build'],
      ['status', 'pending', 'gantry/qa'],
      ['deployment', '', 'qa'],
      ['deployment_status', 'queued', ''],
      ['status', 'pending', 'gantry/qa'],
      ['deployment_status', 'in_progress', ''],
      ['status', 'success', 'gantry/qa'],
      ['deployment_status', 'success', ''],
      ['status', 'pending', 'gantry/qa'],
      ['deployment_status', 'in_progress', ''],
      ['status', 'success', 'gantry/qa'],
      ['deployment_status', 'success', ''],
    ]);
    const mine = gh.requests.filter(
      (r) =>
        r.url.includes(v2) ||
        [...ids].some((id) => r.url.includes(`/deployments/${id}/`)) ||
        (r.json() as { ref?: string }).ref === v2,
    );
    for (const r of mine) {
      expect(r.headers.authorization).toBe('Bearer ghp_test_token_1');
      expect(r.headers.accept).toBe('application/vnd.github+json');
      expect(r.headers['x-github-api-version']).toBe('2022-11-28');
    }
    const created = mine.find((r) => r.url.endsWith('/deployments'))!.json();
    expect(created).toEqual({
      ref: v2,
      task: 'deploy',
      auto_merge: false,
      required_contexts: [],
      payload: { gantry: { deployment: qa.id, trigger: 'auto' } },
      environment: 'qa',
      description: 'Queued for qa (auto)',
      transient_environment: false,
      production_environment: true,
    });
    const remote = [...ids].find((id) => mine.some((r) => r.url.endsWith(`/deployments/${id}/statuses`)))!;
    const statuses = mine
      .filter((r) => r.url.endsWith(`/deployments/${remote}/statuses`))
      .map((r) => r.json() as Record<string, unknown>);
    const link = `${server.url}/apps/gh/deployments/${qa.id}`;
    expect(statuses.every((s) => s.log_url === link && s.auto_inactive === true)).toBe(true);
    expect(statuses[2]).toMatchObject({
      state: 'success',
      environment_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+/),
    });
    expect(statuses[3]).toMatchObject({ state: 'in_progress', description: 'Checking qa: home' });
    expect(statuses[4]).toMatchObject({ state: 'success', description: 'Verified in qa' });
    const buildStatus = mine.find((r) => r.url.endsWith(`/statuses/${v2}`))!.json() as Record<
      string,
      unknown
    >;
    expect(buildStatus).toMatchObject({
      state: 'pending',
      context: 'gantry/build',
      description: 'Build queued',
    });
    expect(String(buildStatus.target_url)).toMatch(new RegExp(`^${server.url}/apps/gh/builds/bld_`));

    // The log: each call once, succeeded, with GitHub's answer kept (capped). The receiver may have
    // answered the last call a moment before the dispatcher records it: wait for every first attempt.
    const log = await waitFor(async () => {
      const all = await deliveries('gh');
      return all.every((d) => d.status !== 'pending' || d.attempts.length > 0) ? all : undefined;
    }, 'every delivery attempted and recorded');
    const v2Log = log.filter(
      (d) => d.attempts.some((a) => a.url.includes(v2)) || d.action !== 'github.status',
    );
    expect(
      log
        .filter((d) => d.status !== 'succeeded' || d.attempts.length !== 1)
        .map((d) => [d.event.type, d.action, d.status, d.lastError]),
    ).toEqual([]);
    expect(
      v2Log.some((d) => d.action === 'github.deployment' && d.attempts[0]!.responseBody!.endsWith('…')),
    ).toBe(true);
    expect(JSON.stringify(log)).not.toContain('ghp_test_token_1');
  });

  it('GitLab: statuses by name, a deployment created running and finished, and a failed check on the commit status', async () => {
    const app = await deployableApp(server, 'gl', {
      qa: 'on_check_failure: keep, checks: [{ name: smoke, http: { path: /, expect_body: never-there }, retries: 0 }]',
    });
    const gl = await forgeReceiver();
    gl.answer((r) =>
      r.method === 'POST' && r.url.endsWith('/deployments')
        ? { status: 201, body: JSON.stringify({ id: 77, iid: 1 }) }
        : { status: 201, body: '{}' },
    );
    const put = await server.api('PUT', '/api/apps/gl/forge', {
      provider: 'gitlab',
      apiUrl: `${gl.url}/api/v4`,
      repo: 'acme/gl-shop',
      token: 'glpat-test-token',
    });
    expect(put.status).toBe(200);
    const v2 = await push(server, app, 'gl', { VERSION: 'v2' });
    const qa = await deployed(server, 'gl', 'qa', v2);
    expect(qa).toMatchObject({ status: 'succeeded', verification: 'check_failed' });
    const endpoints = gitlabEndpoints('acme/gl-shop');
    const ids = new Set(['77']);
    await waitFor(async () => {
      const seen = about(gl.requests, endpoints, v2, ids);
      return seen.length >= 10 ? seen : undefined;
    }, 'the ten calls about v2');
    expect(about(gl.requests, endpoints, v2, ids)).toEqual([
      ['status', 'pending', 'gantry/build'],
      ['status', 'running', 'gantry/build'],
      ['status', 'success', 'gantry/build'],
      ['status', 'pending', 'gantry/qa'],
      ['status', 'running', 'gantry/qa'],
      ['deployment', 'running', 'qa'],
      ['status', 'success', 'gantry/qa'],
      ['deployment_update', 'success', ''],
      ['status', 'running', 'gantry/qa'],
      ['status', 'failed', 'gantry/qa'],
    ]);
    const mine = gl.requests.filter((r) => r.url.includes(v2) || r.url.includes('/deployments'));
    for (const r of mine) expect(r.headers['private-token']).toBe('glpat-test-token');
    expect(mine.find((r) => r.url.endsWith('/deployments'))!.json()).toEqual({
      environment: 'qa',
      sha: v2,
      ref: 'main',
      tag: false,
      status: 'running',
    });
    expect(mine.find((r) => r.method === 'PUT')!.url).toBe(`/api/v4/projects/acme%2Fgl-shop/deployments/77`);
    const failed = mine
      .filter((r) => r.url.endsWith(`/statuses/${v2}`))
      .at(-1)!
      .json() as Record<string, unknown>;
    expect(failed).toMatchObject({ state: 'failed', name: 'gantry/qa' });
    expect(String(failed.description)).toMatch(/^Check smoke failed in qa/);
  });

  it('Gitea: a failed build and then a good one, as commit statuses', async () => {
    const app = await deployableApp(server, 'gt');
    const gt = await forgeReceiver();
    gt.answer(() => ({ status: 201, body: '{"id":1}' }));
    expect(
      (
        await server.api('PUT', '/api/apps/gt/forge', {
          provider: 'gitea',
          apiUrl: gt.url,
          repo: 'acme/gt-shop',
          token: 'gitea-token',
        })
      ).status,
    ).toBe(200);
    const broken = await push(server, app, 'gt', {
      'gantry.yaml': app.yaml.replace('mkdir -p dist', 'echo broken step; exit 3; mkdir -p dist'),
    });
    const endpoints = giteaEndpoints('acme', 'gt-shop');
    await waitFor(async () => {
      const seen = about(gt.requests, endpoints, broken, new Set());
      return seen.length >= 3 ? seen : undefined;
    }, 'the broken build statuses');
    expect(about(gt.requests, endpoints, broken, new Set())).toEqual([
      ['status', 'pending', 'gantry/build'],
      ['status', 'pending', 'gantry/build'],
      ['status', 'failure', 'gantry/build'],
    ]);
    const failure = gt.requests.filter((r) => r.url.endsWith(broken)).at(-1)!;
    expect(failure.headers.authorization).toBe('token gitea-token');
    expect((failure.json() as { description: string }).description).toMatch(/^Build failed/);

    const fixed = await push(server, app, 'gt', { 'gantry.yaml': app.yaml, VERSION: 'v3' });
    await deployed(server, 'gt', 'qa', fixed);
    await waitFor(async () => {
      const seen = about(gt.requests, endpoints, fixed, new Set());
      return seen.length >= 6 ? seen : undefined;
    }, 'the fixed commit statuses');
    expect(about(gt.requests, endpoints, fixed, new Set())).toEqual([
      ['status', 'pending', 'gantry/build'],
      ['status', 'pending', 'gantry/build'],
      ['status', 'success', 'gantry/build'],
      ['status', 'pending', 'gantry/qa'],
      ['status', 'pending', 'gantry/qa'],
      ['status', 'success', 'gantry/qa'],
    ]);

    // A forge that fails a call: it is retried, and the calls after it about the same commit wait.
    let failedOnce = false;
    gt.answer((r) => {
      if (!failedOnce && (r.json() as { state?: string }).state === 'pending') {
        failedOnce = true;
        return { status: 502, body: 'bad gateway' };
      }
      return { status: 201, body: '{"id":1}' };
    });
    const v4 = await push(server, app, 'gt', { VERSION: 'v4' });
    await deployed(server, 'gt', 'qa', v4);
    await waitFor(async () => {
      const seen = about(gt.requests, endpoints, v4, new Set());
      return seen.length >= 7 ? seen : undefined;
    }, 'the v4 statuses, one of them twice');
    expect(about(gt.requests, endpoints, v4, new Set())).toEqual([
      ['status', 'pending', 'gantry/build'],
      ['status', 'pending', 'gantry/build'],
      ['status', 'pending', 'gantry/build'],
      ['status', 'success', 'gantry/build'],
      ['status', 'pending', 'gantry/qa'],
      ['status', 'pending', 'gantry/qa'],
      ['status', 'success', 'gantry/qa'],
    ]);
    const retried = (await deliveries('gt')).find((d) => d.attempts.length > 1)!;
    expect(retried).toMatchObject({
      event: { type: 'build.queued' },
      action: 'gitea.status',
      status: 'succeeded',
    });
    expect(retried.attempts.map((a) => [a.responseStatus, a.responseBody])).toEqual([
      [502, 'bad gateway'],
      [201, '{"id":1}'],
    ]);
  });
});
