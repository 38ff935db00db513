import { createServer, type Server } from 'node:http';
import type { Deployment, Revert } from '@gantry/contracts';
import { createApp } from '../support/app-fixture.js';
import { deployedTo, envPorts, SERVER_JS } from '../support/deploy-fixture.js';
import { git } from '../support/git-fixtures.js';
import { type TestServer, waitFor } from '../support/test-server.js';

/**
 * QA's check: asks the environment for its VERSION (bad* fails) and, when DEP_URL is given, a
 * dependency outside the app (a broken dependency fails every release: a broken environment).
 */
export const SMOKE_SH = `#!/bin/sh
body=$(node -e "fetch(process.env.GANTRY_ENV_URL).then((r) => r.text()).then((t) => process.stdout.write(t))")
echo "$GANTRY_ENV answers: $body"
case "$body" in bad*) echo "this release is broken"; exit 1;; esac
if [ -n "$DEP_URL" ]; then
  node -e "fetch(process.env.DEP_URL).then((r) => { if (!r.ok) { console.log('the dependency answers ' + r.status); process.exit(1); } })" || exit 1
fi
`;

export function revertYaml(
  qaPort: number,
  opts: { mode?: string; depUrl?: string; retries?: number } = {},
): string {
  const env = opts.depUrl ? `DEP_URL=${opts.depUrl} ` : '';
  return `build:
  steps:
    - { name: package, run: "mkdir -p dist && cp server.js VERSION dist/" }
  artifact: { path: dist }
run:
  command: node server.js
  health: { path: /healthz, timeout: 5s }
environments:
  qa: { auto_deploy: true, port: ${qaPort}, checks: [{ name: smoke, run: "${env}sh smoke.sh", retries: ${opts.retries ?? 1} }] }
revert: { on_check_failure: ${opts.mode ?? 'auto'} }
`;
}

/** An app whose first release (VERSION v1) is deployed to QA and verified. */
export async function createRevertApp(
  server: TestServer,
  opts: { mode?: string; depUrl?: string; retries?: number } = {},
) {
  const ports = await envPorts();
  const app = await createApp(server, revertYaml(ports.qa, opts), { register: false });
  await app.pushFiles({ 'server.js': SERVER_JS, VERSION: 'v1', 'smoke.sh': SMOKE_SH }, 'v1');
  const res = await server.api<{ headSha: string }>('POST', '/api/apps', {
    name: 'shop',
    repoUrl: app.bare.dir,
  });
  if (res.status !== 201) throw new Error(JSON.stringify(res.body));
  const v1 = res.body.headSha;
  const first = await deployedTo(server, 'qa', v1);
  await verification(server, first.id);
  /** Pushes commits (each a set of files) in one push and tells the server. */
  const pushCommits = async (commits: { files: Record<string, string>; message: string }[], sync = true) => {
    const shas: string[] = [];
    for (const c of commits) {
      for (const [p, content] of Object.entries(c.files)) await app.work.write(p, content);
      shas.push(await app.work.commit(c.message));
    }
    await app.work.push();
    if (sync) await server.api('POST', '/api/apps/shop/sync');
    return shas;
  };
  return { ...app, ports, v1, pushCommits };
}

export async function verification(server: TestServer, id: string): Promise<Deployment> {
  return waitFor(
    async () => {
      const { body } = await server.api<Deployment>('GET', `/api/deployments/${id}`);
      return body.verification && body.verification !== 'verifying' ? body : undefined;
    },
    `the checks of ${id}`,
    90_000,
  );
}

export async function revertDone(server: TestServer): Promise<Revert> {
  return waitFor(
    async () => {
      const { body } = await server.api<Revert[]>('GET', '/api/reverts?app=shop');
      const r = body[0];
      return r && !['guarding', 'bisecting', 'reverting'].includes(r.status) ? r : undefined;
    },
    'the revert to finish',
    120_000,
  );
}

export async function commitMessage(bareDir: string, ref: string): Promise<string> {
  return (await git(['log', '-1', '--format=%B', ref], bareDir)).stdout.trim();
}

/** A dependency of QA's check that can be switched broken. */
export async function dependency(): Promise<{
  url: string;
  setBroken(b: boolean): void;
  /** The next `n` requests fail, then it answers again. */
  failNext(n: number): void;
  close(): Promise<void>;
}> {
  let broken = false;
  let failing = 0;
  const srv: Server = createServer((_req, res) => {
    const fail = broken || failing > 0;
    if (failing > 0) failing--;
    res.statusCode = fail ? 503 : 200;
    res.end(fail ? 'down' : 'up');
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    setBroken: (b) => {
      broken = b;
    },
    failNext: (n) => {
      failing = n;
    },
    close: () => new Promise((resolve) => srv.close(() => resolve())),
  };
}

export { deployedTo };
