import type { Deployment } from '@gantry/contracts';
import { createApp } from './app-fixture.js';
import { freePort } from './server-process.js';
import { type TestServer, waitFor } from './test-server.js';

export const FINISHED_DEPLOYMENT = ['succeeded', 'failed', 'rejected', 'superseded', 'interrupted'];

/** A tiny HTTP service: / answers its VERSION file, /healthz 200 unless HEALTH=never. */
export const SERVER_JS = `import { createServer } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
const version = readFileSync(new URL('./VERSION', import.meta.url), 'utf8').trim();
if (process.env.PID_DIR) writeFileSync(process.env.PID_DIR + '/' + version + '.pid', String(process.pid));
const server = createServer((req, res) => {
  if (req.url === '/crash') { res.end('bye'); setTimeout(() => process.exit(1), 10); return; }
  if (req.url === '/healthz') {
    if (version.startsWith('broken')) { res.statusCode = 500; return res.end('broken'); }
    return res.end('ok');
  }
  res.end(version + ' ' + (process.env.GREETING ?? ''));
});
const delay = version.startsWith('slow') ? 60000 : 0;
setTimeout(() => server.listen(Number(process.env.PORT), '127.0.0.1'), delay);
`;

export interface DeployEnvPorts {
  qa: number;
  staging: number;
  production: number;
}

export interface DeployYamlOptions {
  /** Extra `KEY: value` pairs for QA's config. */
  qaConfig?: Record<string, string>;
  /** Extra settings for QA, e.g. `queue: fifo`. */
  qa?: string;
  extra?: string;
  /**
   * How long a release may take to answer its health check (default 20s: a first start on a loaded
   * CI machine, proxy and all, can take more than 5 s). Tests of a release that never gets healthy
   * set a short one.
   */
  healthTimeout?: string;
}

export function deployYaml(ports: DeployEnvPorts, opts: DeployYamlOptions = {}): string {
  const qaConfig = Object.entries({ GREETING: 'hello-qa', ...opts.qaConfig })
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join(', ');
  return `build:
  steps:
    - { name: package, run: "mkdir -p dist && cp server.js VERSION dist/" }
  artifact: { path: dist }
run:
  command: node server.js
  port_env: PORT
  health: { path: /healthz, timeout: ${opts.healthTimeout ?? '20s'} }
environments:
  qa: { auto_deploy: true, port: ${ports.qa}, config: { ${qaConfig} }${opts.qa ? `, ${opts.qa}` : ''} }
  staging: { promote_from: qa, port: ${ports.staging}, config: { GREETING: hello-staging } }
  production: { promote_from: staging, protected: true, port: ${ports.production} }
${opts.extra ?? ''}`;
}

export async function envPorts(): Promise<DeployEnvPorts> {
  return { qa: await freePort(), staging: await freePort(), production: await freePort() };
}

/** An app whose first commit (VERSION v1) builds and auto-deploys to qa. */
export async function createDeployableApp(
  server: TestServer,
  ports: DeployEnvPorts,
  opts: DeployYamlOptions = {},
) {
  const app = await createApp(server, deployYaml(ports, opts), { register: false });
  await app.pushFiles({ 'server.js': SERVER_JS, VERSION: 'v1' }, 'v1');
  const res = await server.api<{ buildIds: string[]; headSha: string }>('POST', '/api/apps', {
    name: 'shop',
    repoUrl: app.bare.dir,
  });
  if (res.status !== 201) throw new Error(JSON.stringify(res.body));
  return { ...app, v1: res.body.headSha };
}

export async function latestDeployment(
  server: TestServer,
  env: string,
  sha?: string,
): Promise<Deployment | undefined> {
  const { body } = await server.api<Deployment[]>('GET', `/api/deployments?app=shop&env=${env}&limit=50`);
  return body.find((d) => (sha ? d.sha === sha : true));
}

export function deploymentDone(server: TestServer, id: string, ms = 60_000): Promise<Deployment> {
  return waitFor(
    async () => {
      const { body } = await server.api<Deployment>('GET', `/api/deployments/${id}`);
      return FINISHED_DEPLOYMENT.includes(body.status) ? body : undefined;
    },
    `deployment ${id}`,
    ms,
  );
}

/** Waits for a deployment of `sha` to `env` to finish. */
export async function deployedTo(
  server: TestServer,
  env: string,
  sha: string,
  ms = 60_000,
): Promise<Deployment> {
  const d = await waitFor(
    async () => latestDeployment(server, env, sha),
    `a deployment of ${sha} to ${env}`,
    ms,
  );
  return deploymentDone(server, d.id, ms);
}

export async function serving(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return (await res.text()).trim();
}
