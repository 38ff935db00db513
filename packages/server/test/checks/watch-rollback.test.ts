import type { CheckRun, Deployment } from '@gantry/contracts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createApp, finishedBuild } from '../support/app-fixture.js';
import { deploymentDone, serving } from '../support/deploy-fixture.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { freePort } from '../support/server-process.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

/** Answers its VERSION; a version starting with "err" answers 500 to everything but /healthz. */
const APP_JS = `import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
const version = readFileSync(new URL('./VERSION', import.meta.url), 'utf8').trim();
createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok');
  if (version.startsWith('err')) { res.statusCode = 500; return res.end('error ' + version); }
  res.end(version);
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

const yaml = (port: number) => `build:
  steps: [{ name: package, run: "mkdir -p dist && cp app.js VERSION dist/" }]
  artifact: { path: dist }
run: { command: node app.js, health: { path: /healthz, timeout: 5s } }
environments:
  production:
    protected: true
    port: ${port}
    checks: [{ name: errors, watch: { for: 2s, max_error_rate: 5% }, retries: 0 }]
`;

interface ChecksAnswer {
  deployment: Deployment;
  runs: CheckRun[];
}

/** Sends requests to the environment until stopped, as its users would. */
function traffic(port: number): { stop(): Promise<number> } {
  let on = true;
  let sent = 0;
  const loop = (async () => {
    while (on) {
      await fetch(`http://127.0.0.1:${port}/`)
        .then((r) => r.text())
        .catch(() => undefined);
      sent++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      on = false;
      await loop;
      return sent;
    },
  };
}

describe('a watch of production traffic', () => {
  let server: TestServer;
  afterEach(async () => server?.close());

  it('says when no traffic came, passes with traffic, and rolls a release that answers 5xx back by itself', async () => {
    server = await startTestServer();
    const port = await freePort();
    const app = await createApp(server, yaml(port), { register: false });
    const deploy = async (files: Record<string, string>, message: string) => {
      const sha = await app.pushFiles(files, message);
      await server.api('POST', '/api/apps/shop/sync');
      const build = await waitFor(
        async () =>
          (await server.api<{ id: string; sha: string }[]>('GET', '/api/builds?app=shop')).body.find(
            (b) => b.sha === sha,
          ),
        `the build of ${message}`,
      );
      await finishedBuild(server, build.id);
      const res = await server.api<Deployment>('POST', '/api/apps/shop/deployments', {
        env: 'production',
        ref: sha,
        confirm: true,
      });
      expect(res.status).toBe(201);
      const done = await deploymentDone(server, res.body.id);
      expect(done.status).toBe('succeeded');
      return { sha, id: done.id };
    };
    const checked = (id: string) =>
      waitFor(async () => {
        const { body } = await server.api<ChecksAnswer>('GET', `/api/deployments/${id}/checks`);
        const v = body.deployment.verification;
        return v && v !== 'verifying' ? body : undefined;
      }, `the checks of ${id}`);
    await server.api('POST', '/api/apps', { name: 'shop', repoUrl: app.bare.dir });

    // no request at all during the watch: it fails and says so
    const quiet = await deploy({ 'app.js': APP_JS, VERSION: 'v1' }, 'v1');
    const none = await checked(quiet.id);
    expect(none.deployment.verification).toBe('check_failed');
    expect(none.runs[0]!.error).toBe(
      'no request reached production in 2s; send it traffic during the watch, or set require_traffic: false',
    );

    // with traffic and no errors it passes
    let users = traffic(port);
    const good = await deploy({ VERSION: 'v2' }, 'v2');
    const passed = await checked(good.id);
    await users.stop();
    expect(passed.deployment.verification).toBe('verified');
    expect(passed.runs[0]!.output).toMatch(
      /^watched 2s of traffic to production\n\w{12}: \d+ requests, 0 5xx \(0%\)/,
    );

    // a release that answers 500: the watch fails and production is switched back to v2 (not v1, whose check failed)
    users = traffic(port);
    const bad = await deploy({ VERSION: 'err3' }, 'err3');
    const failed = await checked(bad.id);
    expect(failed.deployment.verification).toBe('check_failed');
    expect(failed.runs[0]!.error).toMatch(
      /^5xx answers 100% \(\d+ of \d+\) exceed 5% \(the release before: \d+ requests, 0 5xx/,
    );
    const rollback = await waitFor(
      async () =>
        (
          await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=production&limit=20')
        ).body.find((d) => d.trigger === 'auto-rollback' && d.status === 'succeeded'),
      'the automatic rollback',
    );
    expect(rollback).toMatchObject({ sha: good.sha, previousSha: bad.sha, kind: 'switch' });
    expect(await serving(port)).toBe('v2');
    await users.stop();
    // the rollback's own watch sees v2 answer again
    expect((await checked(rollback.id)).deployment.verification).toBe('verified');
    // the metrics count the automatic rollback as a rollback, as they count a person's
    const metrics = await server.api<{ deploymentFrequency: { deployments: number; rollbacks: number } }>(
      'GET',
      '/api/metrics?app=shop&env=production',
    );
    expect(metrics.body.deploymentFrequency).toMatchObject({ rollbacks: 1 });
  });
});
