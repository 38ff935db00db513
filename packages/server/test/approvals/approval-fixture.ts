import type { Deployment, GantryEvent } from '@gantry/contracts';
import { createApp } from '../support/app-fixture.js';
import { SERVER_JS } from '../support/deploy-fixture.js';
import { apiCall, type TestServer } from '../support/test-server.js';

export interface Ports {
  qa: number;
  production: number;
}

/**
 * gantry.yaml with QA (auto-deployed) and production, whose settings are `production` (indented
 * lines). With `stamp`, each build writes the time into the artifact, so a rebuild of the same
 * commit has another digest.
 */
export function protectedYaml(ports: Ports, production: string, opts: { stamp?: boolean } = {}): string {
  const stamp = opts.stamp ? ' && date +%s%N > dist/BUILT_AT' : '';
  return `build:
  steps:
    - { name: package, run: "mkdir -p dist && cp server.js VERSION dist/${stamp}" }
  artifact: { path: dist }
run:
  command: node server.js
  port_env: PORT
  health: { path: /healthz, timeout: 5s }
environments:
  qa: { auto_deploy: true, port: ${ports.qa} }
  production:
    port: ${ports.production}
${production}`;
}

/** App `shop` whose first commit (VERSION v1) builds and auto-deploys to QA. */
export async function createProtectedApp(server: TestServer, yaml: string) {
  const app = await createApp(server, yaml, { register: false });
  await app.pushFiles({ 'server.js': SERVER_JS, VERSION: 'v1' }, 'v1');
  const res = await server.api<{ headSha: string }>('POST', '/api/apps', {
    name: 'shop',
    repoUrl: app.bare.dir,
  });
  if (res.status !== 201) throw new Error(JSON.stringify(res.body));
  return { ...app, v1: res.body.headSha };
}

/** A service token with its own name, as approvers are distinct principals. */
export async function tokenFor(server: TestServer, name: string, role = 'admin'): Promise<string> {
  if (role === 'admin') {
    const res = await server.api<{ token: string }>('POST', '/api/tokens', { name, role });
    if (res.status !== 201) throw new Error(JSON.stringify(res.body));
    return res.body.token;
  }
  // Roles other than admin, hook and metrics come with issue 15's people and roles; the store takes them already.
  return (await server.gantry.tokens.create(name, role, 'test')).token;
}

/** An API call with another token than the admin's. */
export function call<T = unknown>(
  server: TestServer,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  return apiCall<T>(server.url, token, method, path, body);
}

export async function eventsOf(server: TestServer, subject: string): Promise<GantryEvent[]> {
  return (await server.api<GantryEvent[]>('GET', `/api/events?subject=${subject}&limit=1000`)).body;
}

export async function productionHistory(server: TestServer): Promise<Deployment[]> {
  return (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=production&limit=100')).body;
}
