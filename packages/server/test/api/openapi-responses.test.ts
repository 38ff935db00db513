import type { Build, Deployment, Toggle } from '@gantry/contracts';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRevertApp, revertDone } from '../reverts/revert-fixture.js';
import { createApp, finishedBuild } from '../support/app-fixture.js';
import {
  deployedTo,
  deploymentDone,
  deployYaml,
  envPorts,
  latestDeployment,
  SERVER_JS,
} from '../support/deploy-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

/**
 * Every route a console reads or calls, as `METHOD /path/{param}` the way the OpenAPI document names
 * it. Each must declare its answer, and the flow below checks each real answer against it.
 */
const ROUTES = [
  'GET /api/server',
  'GET /api/apps',
  'POST /api/apps',
  'GET /api/apps/{app}',
  'DELETE /api/apps/{app}',
  'GET /api/apps/{app}/webhook-secret',
  'GET /api/apps/{app}/commits',
  'GET /api/apps/{app}/pushes',
  'POST /api/apps/{app}/sync',
  'POST /api/apps/{app}/hook-token',
  'GET /api/apps/{app}/registry',
  'PUT /api/apps/{app}/registry',
  'DELETE /api/apps/{app}/registry',
  'GET /api/builds',
  'POST /api/builds',
  'GET /api/builds/{id}',
  'POST /api/builds/{id}/cancel',
  'GET /api/artifacts',
  'GET /api/artifacts/{id}',
  'POST /api/artifacts/prune',
  'GET /api/events',
  'POST /api/tokens',
  'POST /api/apps/{app}/deployments',
  'GET /api/deployments',
  'GET /api/deployments/{id}',
  'POST /api/apps/{app}/environments/{env}/rollback',
  'POST /api/apps/{app}/recover',
  'GET /api/status',
  'GET /api/apps/{app}/environments',
  'POST /api/apps/{app}/environments/{env}/lock',
  'DELETE /api/apps/{app}/environments/{env}/lock',
  'DELETE /api/apps/{app}/environments/{env}/hold',
  'GET /api/apps/{app}/toggles',
  'POST /api/apps/{app}/toggles',
  'GET /api/apps/{app}/toggles/{name}',
  'PATCH /api/apps/{app}/toggles/{name}',
  'PUT /api/apps/{app}/toggles/{name}/environments/{env}',
  'POST /api/apps/{app}/toggles/{name}/environments/{env}/rollout',
  'POST /api/apps/{app}/toggles/{name}/archive',
  'GET /api/apps/{app}/segments',
  'PUT /api/apps/{app}/segments/{name}',
  'POST /api/apps/{app}/toggles/import',
  'POST /api/apps/{app}/toggles/{name}/copy',
  'GET /api/apps/{app}/toggles-stale',
  'GET /api/apps/{app}/toggle-environments',
  'POST /api/apps/{app}/client-tokens',
  'GET /api/apps/{app}/client-instances',
  'GET /api/apps/{app}/toggles/{name}/usage',
  'GET /api/metrics',
  'GET /api/releases',
  'POST /api/releases',
  'GET /api/releases/{name}',
  'POST /api/releases/{name}/changes',
  'DELETE /api/releases/{name}/changes/{idx}',
  'POST /api/releases/{name}/schedule',
  'POST /api/releases/{name}/unschedule',
  'POST /api/releases/{name}/cancel',
  'POST /api/releases/{name}/apply',
  'POST /api/releases/{name}/revert',
  'POST /api/incidents',
  'POST /api/incidents/{id}/resolve',
  'GET /api/incidents',
  'GET /api/incidents/{id}',
  'GET /api/deployments/{id}/checks',
  'GET /api/reverts',
] as const;
type Route = (typeof ROUTES)[number];

interface OpenApiDoc {
  paths: Record<
    string,
    Record<string, { responses?: Record<string, { content?: Record<string, { schema?: object }> }> }>
  >;
}

describe.each(engines)('the OpenAPI document describes the real answers on $name', (engine) => {
  let server: TestServer;
  let doc: OpenApiDoc;
  const ajv = new Ajv({ strict: false, allErrors: true });
  const compiled = new Map<string, ValidateFunction>();
  const checked = new Set<string>();

  beforeAll(async () => {
    server = await startTestServer(engine);
    const res = await server.api<OpenApiDoc>('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
  });
  afterAll(async () => server?.close());

  function schemaOf(route: Route, status: number): object | undefined {
    const [method, path] = route.split(' ') as [string, string];
    return doc.paths[path]?.[method.toLowerCase()]?.responses?.[String(status)]?.content?.['application/json']
      ?.schema;
  }

  /** Calls the route, expects `status`, and validates the answer against the document's schema for it. */
  async function call<T>(route: Route, url: string, status: number, body?: unknown): Promise<T> {
    const method = route.split(' ')[0]!;
    const res = await server.api<T>(method, url, body);
    expect(res.status, `${method} ${url}: ${JSON.stringify(res.body)}`).toBe(status);
    const key = `${route} ${status}`;
    let validate = compiled.get(key);
    if (!validate) {
      const schema = schemaOf(route, status);
      expect(schema, `${route} declares no ${status} answer`).toBeDefined();
      validate = ajv.compile(schema!);
      compiled.set(key, validate);
    }
    const ok = validate(res.body);
    expect(
      ok,
      `${method} ${url} answered what its schema does not describe: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(res.body).slice(0, 2000)}`,
    ).toBe(true);
    checked.add(route);
    return res.body;
  }

  it('declares an answer for every route a console uses', () => {
    for (const route of ROUTES) {
      const [method, path] = route.split(' ') as [string, string];
      const responses = doc.paths[path]?.[method.toLowerCase()]?.responses ?? {};
      const declared = Object.entries(responses).filter(([code, r]) => /^2/.test(code) && r.content);
      expect(declared.length, `${route} declares no answer`).toBeGreaterThan(0);
      if (method === 'GET') expect(schemaOf(route, 200), `${route} has no 200 schema`).toBeDefined();
    }
  });

  it('matches what a real flow answers: apps, builds, deployments, environments, toggles, releases, incidents, checks, reverts', async () => {
    // An app from a real repository: v1 builds and auto-deploys to qa.
    const ports = await envPorts();
    const repo = await createApp(server, deployYaml(ports), { register: false });
    await repo.pushFiles({ 'server.js': SERVER_JS, VERSION: 'v1' }, 'v1');
    const added = await call<{ headSha: string; buildIds: string[] }>('POST /api/apps', '/api/apps', 201, {
      name: 'shop',
      repoUrl: repo.bare.dir,
    });
    const v1 = added.headSha;
    const qa1 = await deployedTo(server, 'qa', v1);
    expect(qa1.status).toBe('succeeded');

    await call('GET /api/server', '/api/server', 200);
    await call('GET /api/apps', '/api/apps', 200);
    await call('GET /api/apps/{app}', '/api/apps/shop', 200);
    await call('GET /api/apps/{app}/webhook-secret', '/api/apps/shop/webhook-secret', 200);
    await call('GET /api/apps/{app}/commits', '/api/apps/shop/commits', 200);
    await call('POST /api/apps/{app}/hook-token', '/api/apps/shop/hook-token', 201);
    await call('GET /api/apps/{app}/registry', '/api/apps/shop/registry', 200);
    await call('PUT /api/apps/{app}/registry', '/api/apps/shop/registry', 200, {
      url: 'registry.example.com/team',
      username: 'ci',
      passwordEnv: 'SHOP_REGISTRY_PASSWORD',
    });
    await call('GET /api/apps/{app}/registry', '/api/apps/shop/registry', 200);
    await call('DELETE /api/apps/{app}/registry', '/api/apps/shop/registry', 200);

    // Builds and artifacts.
    const builds = await call<Build[]>('GET /api/builds', '/api/builds?app=shop', 200);
    const build = await call<Build>('GET /api/builds/{id}', `/api/builds/${builds[0]!.id}`, 200);
    expect(build.steps?.length).toBeGreaterThan(0);
    await call('POST /api/builds', '/api/builds', 200, { app: 'shop', ref: 'HEAD' });
    await call('POST /api/builds/{id}/cancel', `/api/builds/${build.id}/cancel`, 200);
    const artifacts = await call<{ id: string }[]>('GET /api/artifacts', '/api/artifacts?app=shop', 200);
    await call('GET /api/artifacts/{id}', `/api/artifacts/${artifacts[0]!.id}`, 200);
    await call('POST /api/artifacts/prune', '/api/artifacts/prune', 200, { dryRun: true });

    // A new commit: a push, its build (201), its auto-deployment to qa.
    const v2 = await repo.pushFiles({ VERSION: 'v2' }, 'v2');
    const synced = await call<{ buildIds: string[] }>(
      'POST /api/apps/{app}/sync',
      '/api/apps/shop/sync',
      200,
    );
    await call('GET /api/apps/{app}/pushes', '/api/apps/shop/pushes', 200);
    if (synced.buildIds[0]) await finishedBuild(server, synced.buildIds[0]);
    const rebuilt = await call<{ kind: string; build: Build }>('POST /api/builds', '/api/builds', 201, {
      app: 'shop',
      ref: v1,
      rebuild: true,
    });
    await call('POST /api/builds/{id}/cancel', `/api/builds/${rebuilt.build.id}/cancel`, 200);
    await finishedBuild(server, rebuilt.build.id);
    const qa2 = await deployedTo(server, 'qa', v2);
    expect(qa2.status).toBe('succeeded');

    // Deployments: a dry run (200), a real one (201), a rollback (201) that leaves a hold.
    await call('POST /api/apps/{app}/deployments', '/api/apps/shop/deployments', 200, {
      env: 'staging',
      ref: v2,
      dryRun: true,
    });
    const staged = await call<Deployment>(
      'POST /api/apps/{app}/deployments',
      '/api/apps/shop/deployments',
      201,
      {
        env: 'staging',
        ref: v2,
        reason: 'try it',
      },
    );
    await deploymentDone(server, staged.id);
    const rolledBack = await call<Deployment>(
      'POST /api/apps/{app}/environments/{env}/rollback',
      '/api/apps/shop/environments/qa/rollback',
      201,
      { reason: 'v2 is slow' },
    );
    await deploymentDone(server, rolledBack.id);
    await call('GET /api/deployments', '/api/deployments?app=shop', 200);
    await call('GET /api/deployments/{id}', `/api/deployments/${staged.id}`, 200);
    await call('POST /api/apps/{app}/recover', '/api/apps/shop/recover', 200);

    // Environments: status with a hold and a lock, then without.
    await call(
      'POST /api/apps/{app}/environments/{env}/lock',
      '/api/apps/shop/environments/staging/lock',
      200,
      {
        reason: 'freeze',
      },
    );
    await call('GET /api/status', '/api/status', 200);
    await call('GET /api/apps/{app}/environments', '/api/apps/shop/environments', 200);
    await call(
      'DELETE /api/apps/{app}/environments/{env}/lock',
      '/api/apps/shop/environments/staging/lock',
      200,
    );
    await call('DELETE /api/apps/{app}/environments/{env}/hold', '/api/apps/shop/environments/qa/hold', 200);
    await call('GET /api/apps/{app}/environments', '/api/apps/shop/environments', 200);

    // Toggles, segments, SDK clients.
    await call<Toggle>('POST /api/apps/{app}/toggles', '/api/apps/shop/toggles', 201, {
      name: 'checkout',
      description: 'the new checkout',
      owner: 'ann',
    });
    await call('PATCH /api/apps/{app}/toggles/{name}', '/api/apps/shop/toggles/checkout', 200, {
      impressionData: true,
    });
    await call('PUT /api/apps/{app}/segments/{name}', '/api/apps/shop/segments/beta', 200, {
      description: 'beta users',
      constraints: [{ contextName: 'userId', operator: 'IN', values: ['1', '2'] }],
    });
    await call('GET /api/apps/{app}/segments', '/api/apps/shop/segments', 200);
    await call(
      'PUT /api/apps/{app}/toggles/{name}/environments/{env}',
      '/api/apps/shop/toggles/checkout/environments/qa',
      200,
      {
        enabled: true,
        strategies: [
          {
            name: 'default',
            constraints: [{ contextName: 'country', operator: 'IN', values: ['NL'] }],
          },
        ],
        variants: [{ name: 'blue', weight: 1000, payload: { type: 'string', value: 'b' } }],
      },
    );
    await call(
      'POST /api/apps/{app}/toggles/{name}/environments/{env}/rollout',
      '/api/apps/shop/toggles/checkout/environments/staging/rollout',
      200,
      { percent: 25 },
    );
    await call('POST /api/apps/{app}/toggles/import', '/api/apps/shop/toggles/import?env=qa', 200, {
      features: [
        {
          name: 'imported',
          enabled: true,
          strategies: [{ name: 'flexibleRollout', parameters: { rollout: '50' }, constraints: [] }],
        },
      ],
    });
    await call('POST /api/apps/{app}/toggles/{name}/copy', '/api/apps/shop/toggles/checkout/copy', 200, {
      from: 'qa',
      to: 'production',
      dryRun: true,
    });
    await call('POST /api/apps/{app}/toggles/{name}/copy', '/api/apps/shop/toggles/checkout/copy', 200, {
      from: 'qa',
      to: 'production',
    });
    await call('GET /api/apps/{app}/toggles', '/api/apps/shop/toggles', 200);
    await call('GET /api/apps/{app}/toggles/{name}', '/api/apps/shop/toggles/checkout', 200);
    await call('GET /api/apps/{app}/toggles-stale', '/api/apps/shop/toggles-stale?env=qa&days=0', 200);
    await call('GET /api/apps/{app}/toggle-environments', '/api/apps/shop/toggle-environments', 200);
    const client = await call<{ token: string }>(
      'POST /api/apps/{app}/client-tokens',
      '/api/apps/shop/client-tokens',
      201,
      { env: 'qa' },
    );
    await call('POST /api/apps/{app}/client-tokens', '/api/apps/shop/client-tokens', 201, {
      env: 'qa',
      kind: 'frontend',
    });
    // An SDK registers, fetches and reports an evaluation, as Unleash SDKs do.
    const sdk = (path: string, body?: unknown) =>
      fetch(`${server.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          authorization: client.token,
          'unleash-appname': 'web',
          'unleash-instanceid': 'web-1',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const now = new Date().toISOString();
    expect(
      (
        await sdk('/api/client/register', {
          appName: 'web',
          instanceId: 'web-1',
          sdkVersion: 'unleash-client-node:6.0.0',
          strategies: ['default'],
          started: now,
          interval: 10_000,
        })
      ).status,
    ).toBeLessThan(300);
    expect((await sdk('/api/client/features')).status).toBe(200);
    expect(
      (
        await sdk('/api/client/metrics', {
          appName: 'web',
          instanceId: 'web-1',
          bucket: { start: now, stop: now, toggles: { checkout: { yes: 3, no: 1, variants: { blue: 3 } } } },
        })
      ).status,
    ).toBeLessThan(300);
    await server.gantry.clientApi.metrics.flush();
    await server.gantry.clientApi.fetches.flush();
    const instances = await call<unknown[]>(
      'GET /api/apps/{app}/client-instances',
      '/api/apps/shop/client-instances',
      200,
    );
    expect(instances.length).toBeGreaterThan(0);
    const usage = await call<{ yes: number }>(
      'GET /api/apps/{app}/toggles/{name}/usage',
      '/api/apps/shop/toggles/checkout/usage',
      200,
    );
    expect(usage.yes).toBe(3);

    // Releases: a draft with changes, scheduled and back, applied and reverted; another cancelled.
    await call('POST /api/releases', '/api/releases', 201, { name: 'spring', notes: 'new checkout' });
    await call('POST /api/releases/{name}/changes', '/api/releases/spring/changes', 200, {
      app: 'shop',
      toggle: 'checkout',
      env: 'staging',
      change: { enabled: true, rollout: 50 },
    });
    await call('POST /api/releases/{name}/changes', '/api/releases/spring/changes', 200, {
      app: 'shop',
      toggle: 'imported',
      env: 'qa',
      change: { strategies: [{ name: 'default' }], variants: [{ name: 'red', weight: 1000 }] },
    });
    await call('POST /api/releases/{name}/schedule', '/api/releases/spring/schedule', 200, {
      at: new Date(Date.now() + 86_400_000).toISOString(),
    });
    await call('POST /api/releases/{name}/unschedule', '/api/releases/spring/unschedule', 200);
    await call('POST /api/releases/{name}/apply', '/api/releases/spring/apply', 200);
    await call('GET /api/releases/{name}', '/api/releases/spring', 200);
    await call('POST /api/releases/{name}/revert', '/api/releases/spring/revert', 200);
    await call('POST /api/releases', '/api/releases', 201, { name: 'summer' });
    await call('POST /api/releases/{name}/changes', '/api/releases/summer/changes', 200, {
      app: 'shop',
      toggle: 'checkout',
      env: 'qa',
      change: { enabled: false },
    });
    await call('DELETE /api/releases/{name}/changes/{idx}', '/api/releases/summer/changes/0', 200);
    await call('POST /api/releases/{name}/cancel', '/api/releases/summer/cancel', 200);
    await call('GET /api/releases', '/api/releases', 200);
    await call('POST /api/apps/{app}/toggles/{name}/archive', '/api/apps/shop/toggles/imported/archive', 200);
    await call('GET /api/apps/{app}/toggles', '/api/apps/shop/toggles?archived=true', 200);

    // Incidents, linked to the deployment that caused them.
    const incident = await call<{ id: string }>('POST /api/incidents', '/api/incidents', 201, {
      app: 'shop',
      env: 'qa',
      deploymentId: qa2.id,
      title: 'v2 is slow',
    });
    await call('GET /api/incidents', '/api/incidents?app=shop', 200);
    await call('GET /api/incidents/{id}', `/api/incidents/${incident.id}`, 200);
    await call('POST /api/incidents/{id}/resolve', `/api/incidents/${incident.id}/resolve`, 200, {});

    // What the console reads from all of it.
    await call('GET /api/metrics', '/api/metrics?app=shop&env=qa&bucket=day', 200);
    await call('GET /api/metrics', '/api/metrics?env=staging', 200);
    await call('GET /api/events', '/api/events?app=shop&limit=1000', 200);
    await call('POST /api/tokens', '/api/tokens', 201, { name: 'console', role: 'metrics' });
    await call('GET /api/releases', '/api/releases', 200);

    // Removing the app stops its environments.
    await waitFor(async () => {
      const d = await latestDeployment(server, 'qa');
      return d && d.status !== 'queued' && d.status !== 'running' ? d : undefined;
    }, 'qa to settle');
    await call('DELETE /api/apps/{app}', '/api/apps/shop?stopEnvironments=true', 200);

    // The QA gate, on an app of the same name: a pushed commit fails QA's check, and Gantry proposes
    // its revert on a branch. The checks of a verified, a failed and a check-less deployment.
    await call('GET /api/reverts', '/api/reverts', 200);
    const gate = await createRevertApp(server, { mode: 'propose' });
    await gate.pushCommits([{ files: { VERSION: 'bad-2' }, message: 'a broken change' }]);
    const revert = await revertDone(server);
    expect(revert.status).toBe('proposed');
    const reverts = await call<{ id: string; steps: unknown[] }[]>(
      'GET /api/reverts',
      '/api/reverts?app=shop&limit=5',
      200,
    );
    expect(reverts[0]?.steps.length).toBeGreaterThan(0);
    const failedChecks = await call<{ runs: { status: string }[] }>(
      'GET /api/deployments/{id}/checks',
      `/api/deployments/${revert.deploymentId}/checks`,
      200,
    );
    expect(failedChecks.runs.map((r) => r.status)).toEqual(['failed', 'failed']);
    const gateHistory = (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa&limit=100'))
      .body;
    const firstGate = gateHistory[gateHistory.length - 1]!;
    const verified = await call<{ deployment: Deployment; declared: unknown[] }>(
      'GET /api/deployments/{id}/checks',
      `/api/deployments/${firstGate.id}/checks`,
      200,
    );
    expect(verified.deployment.verification).toBe('verified');
    expect(verified.declared).toHaveLength(1);
    await call('GET /api/deployments/{id}/checks', `/api/deployments/${qa1.id}/checks`, 200);

    expect(ROUTES.filter((r) => !checked.has(r))).toEqual([]);
  });

  it('fails a schema that lies', async () => {
    // The check above would catch a field a schema leaves out or types wrongly.
    const schema = schemaOf('GET /api/server', 200)!;
    const validate = ajv.compile(schema);
    const { body } = await server.api<{ version: string }>('GET', '/api/server');
    expect(validate(body)).toBe(true);
    expect(validate({ ...body, version: 1 })).toBe(false);
    expect(validate({ sandbox: (body as { sandbox?: unknown }).sandbox })).toBe(false);
  });
});
