import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Deployment } from '@gantry/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { openServedSecrets, sealServedSecrets } from '../../src/features/agents/served-secrets.js';
import { createApp } from '../support/app-fixture.js';
import { deploymentDone } from '../support/deploy-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { freePort } from '../support/server-process.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';
import { type AgentProcess, hostHeld, spawnAgent } from './agent-fixture.js';

// An environment on a deploy agent's host with a declared secret: the value reaches the release on
// the agent's machine, and the deploy job's row, which waits in the shared database until an agent
// takes it, holds it sealed with the secrets key, never as plaintext.

afterAll(cleanupAll);

const SECRET = `s3cr3t-${Date.now().toString(36)}-value`;

/** Answers with its API_KEY, or with its whole environment at /env; /crash ends it. */
const SERVER_JS = `import { createServer } from 'node:http';
createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok');
  if (req.url === '/crash') { res.end('bye'); setTimeout(() => process.exit(1), 10); return; }
  res.end(req.url === '/env' ? JSON.stringify(process.env) : String(process.env.API_KEY));
}).listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
`;

describe.each(engines)('deploy agents and secrets on %s', (engine) => {
  let server: TestServer;
  let agent: AgentProcess | undefined;
  afterAll(async () => {
    await server?.close();
    agent?.child.kill('SIGTERM');
    await agent?.exited;
  });

  it("a deploy job's secrets wait sealed in its row and reach the release on the agent's host", async () => {
    server = await startTestServer(engine, { staleAfterMs: 3_000, hostClaimTimeoutMs: 60_000 });
    const { body } = await server.api<{ token: string }>('POST', '/api/agents/tokens', { labels: ['web-1'] });
    const port = await freePort();
    const yaml = `build:
  steps:
    - { name: package, run: "mkdir -p dist && cp server.js dist/" }
  artifact: { path: dist }
run:
  command: node server.js
  health: { path: /healthz, timeout: 20s }
environments:
  qa: { port: ${port}, hosts: [web-1], secrets: [API_KEY] }
`;
    const app = await createApp(server, yaml, { register: false });
    const v1 = await app.pushFiles({ 'server.js': SERVER_JS }, 'v1');
    expect((await server.api('POST', '/api/apps', { name: 'shop', repoUrl: app.bare.dir })).status).toBe(201);
    const set = await server.api('PUT', '/api/apps/shop/secrets/API_KEY', { env: 'qa', value: SECRET });
    expect(set.status, JSON.stringify(set.body)).toBeLessThan(300);
    await waitFor(async () => {
      const { body: builds } = await server.api<{ status: string }[]>('GET', '/api/builds?app=shop');
      return builds.some((b) => b.status === 'succeeded') ? true : undefined;
    }, 'the build');

    // No agent yet: the job waits in the database for one.
    const req = await server.api<Deployment>('POST', '/api/apps/shop/deployments', { env: 'qa', ref: v1 });
    expect(req.status, JSON.stringify(req.body)).toBe(201);
    const row = await waitFor(
      async () =>
        (await server.gantry.database.db
          .selectFrom('host_jobs')
          .select(['kind', 'payload'])
          .where('kind', '=', 'deploy')
          .executeTakeFirst()) ?? undefined,
      'the deploy job queued',
    );
    expect(row.payload).not.toContain(SECRET);
    const stored = JSON.parse(row.payload) as {
      spec: { secrets?: unknown };
      sealedSecrets?: { keyId: string; iv: string; ciphertext: string };
    };
    expect(stored.spec.secrets).toBeUndefined();
    expect(stored.sealedSecrets).toMatchObject({ keyId: expect.any(String), ciphertext: expect.any(String) });

    agent = await spawnAgent(server.url, body.token, ['--listen', '127.0.0.2']);
    await hostHeld(server, 'web-1');
    const done = await deploymentDone(server, req.body.id);
    expect(done.status, done.error ?? '').toBe('succeeded');
    expect(await (await fetch(`http://127.0.0.2:${port}/`)).text()).toBe(SECRET);
    // The release sees its secret, not the agent's or the server's settings.
    const env = (await (await fetch(`http://127.0.0.2:${port}/env`)).json()) as Record<string, string>;
    expect(env.API_KEY).toBe(SECRET);
    expect(env).not.toHaveProperty('GANTRY_DATABASE_URL');
    expect(env).not.toHaveProperty('GANTRY_TOKEN');
    // What the agent keeps to restore the environment after a restart is readable by its user only.
    const served = join(agent.workDir, 'envs', 'shop', 'qa.served.json');
    const kept = await readFile(served, 'utf8');
    expect(JSON.parse(kept)).toMatchObject({ host: 'web-1', serving: { sha: v1 } });
    expect((await stat(served)).mode & 0o077).toBe(0);
    // …and holds the secret only sealed with a key from the agent's token, not as plaintext.
    expect(kept).not.toContain(SECRET);
    expect(JSON.parse(kept)).toMatchObject({ sealedSecrets: { v: 1, data: expect.any(String) } });
    expect(JSON.parse(kept).spec.secrets).toBeUndefined();

    // The agent restarted after its release died: it opens the sealed secret and starts it again.
    agent.child.kill('SIGKILL');
    await agent.exited;
    await fetch(`http://127.0.0.2:${port}/crash`).catch(() => undefined);
    await waitFor(
      () =>
        fetch(`http://127.0.0.2:${port}/`).then(
          (r) => r.text().then((t) => (t === SECRET ? undefined : true)),
          () => true,
        ),
      'the release gone',
    );
    const workDir = agent.workDir;
    agent = await spawnAgent(server.url, body.token, ['--listen', '127.0.0.2'], workDir);
    await agent.waitForOutput(/shop\/qa on web-1: started again [0-9a-f]{12}/);
    expect(await (await fetch(`http://127.0.0.2:${port}/`)).text()).toBe(SECRET);
  });
});

describe("served.json's sealed secrets (pure logic)", () => {
  it('open with the agent token that sealed them, and not with another', () => {
    const sealed = sealServedSecrets({ API_KEY: SECRET }, 'agent-token-1');
    expect(JSON.stringify(sealed)).not.toContain(SECRET);
    expect(openServedSecrets(sealed, 'agent-token-1')).toEqual({ API_KEY: SECRET });
    expect(() => openServedSecrets(sealed, 'agent-token-2')).toThrow(/sealed with another agent token/);
    // Each file has its own salt and nonce.
    expect(sealServedSecrets({ API_KEY: SECRET }, 'agent-token-1').data).not.toBe(sealed.data);
  });
});
