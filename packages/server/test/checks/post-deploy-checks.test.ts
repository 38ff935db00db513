import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckRun, Deployment, GantryEvent, Incident } from '@gantry/contracts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createDeployableApp, deployedTo, envPorts, serving } from '../support/deploy-fixture.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

/** Fails when the environment answers a release whose VERSION starts with "bad". */
const SMOKE_SH = `#!/bin/sh
body=$(node -e "fetch(process.env.GANTRY_ENV_URL).then((r) => r.text()).then((t) => process.stdout.write(t))")
echo "$GANTRY_ENV answers: $body"
case "$body" in bad*) echo "this release is broken"; exit 1;; esac
`;

interface ChecksAnswer {
  deployment: Deployment;
  declared: { name: string; kind: string; retries: number }[];
  runs: CheckRun[];
}

async function verified(server: TestServer, id: string): Promise<ChecksAnswer> {
  return waitFor(
    async () => {
      const { body } = await server.api<ChecksAnswer>('GET', `/api/deployments/${id}/checks`);
      const v = body.deployment.verification;
      return v && v !== 'verifying' ? body : undefined;
    },
    `the checks of ${id}`,
    60_000,
  );
}

async function eventsOf(server: TestServer, type: string): Promise<GantryEvent[]> {
  return (await server.api<GantryEvent[]>('GET', `/api/events?type=${type}&limit=100`)).body;
}

describe('post-deploy checks', () => {
  let server: TestServer;
  afterEach(async () => server?.close());

  it('verifies a good release, and rolls a release that fails its check back by itself, holds it and opens an incident', async () => {
    server = await startTestServer();
    const ports = await envPorts();
    const app = await createDeployableApp(server, ports, {
      qa: `checks: [{ name: smoke, run: "sh smoke.sh" }, { name: home, http: { path: /, expect_status: 200 } }]`,
      // The safe revert (tested in reverts/) would deploy its own trials to QA meanwhile.
      extra: 'revert: { on_check_failure: off }',
    });
    // smoke.sh arrives with v1's next commit. The first commit's deployment, when it runs before that
    // commit supersedes it (a slow machine), fails its smoke check and opens an incident of its own.
    const v1 = await app.pushFiles({ 'smoke.sh': SMOKE_SH, VERSION: 'v1b' }, 'v1b with smoke');
    await server.api('POST', '/api/apps/shop/sync');
    const first = await deployedTo(server, 'qa', v1);
    expect(first.status).toBe('succeeded');
    const good = await verified(server, first.id);
    expect(good.deployment.verification).toBe('verified');
    expect(good.declared).toEqual([
      { name: 'smoke', kind: 'run', retries: 1 },
      { name: 'home', kind: 'http', retries: 1 },
    ]);
    expect(good.runs.map((r) => [r.name, r.attempt, r.status])).toEqual([
      ['smoke', 1, 'passed'],
      ['home', 1, 'passed'],
    ]);
    expect(good.runs[0]!.output).toContain('qa answers: v1b hello-qa');
    expect(good.runs[1]!.output).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/ → 200/);

    const bad = await app.pushFiles({ VERSION: 'bad2' }, 'a broken change');
    await server.api('POST', '/api/apps/shop/sync');
    const failed = await deployedTo(server, 'qa', bad);
    const answer = await verified(server, failed.id);
    expect(answer.deployment.verification).toBe('check_failed');
    // the flake guard: the failing check ran again before it counted
    expect(answer.runs.map((r) => [r.name, r.attempt, r.status])).toEqual([
      ['smoke', 1, 'failed'],
      ['smoke', 2, 'failed'],
    ]);
    expect(answer.runs[1]!.error).toBe('exited with code 1: this release is broken');

    const rollback = await waitFor(
      async () =>
        (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa&limit=10')).body.find(
          (d) => d.trigger === 'auto-rollback' && d.status === 'succeeded',
        ),
      'the automatic rollback',
    );
    expect(rollback).toMatchObject({ sha: v1, previousSha: bad, kind: 'switch', actor: 'gantry:checks' });
    expect(await serving(ports.qa)).toBe('v1b hello-qa');
    const failedEvent = (await eventsOf(server, 'deployment.check_failed')).find(
      (e) => e.subject === failed.id,
    );
    expect(failedEvent).toMatchObject({ subject: failed.id, data: { check: 'smoke', action: 'rollback' } });
    const state = await server.api<{ env: string; hold: { sha: string } | null }[]>(
      'GET',
      '/api/apps/shop/environments',
    );
    expect(state.body.find((e) => e.env === 'qa')?.hold?.sha).toBe(bad);
    const ofFirstCommit = new Set(
      (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa&limit=50')).body
        .filter((d) => d.sha === app.v1)
        .map((d) => d.id),
    );
    const incidents = (await server.api<Incident[]>('GET', '/api/incidents?app=shop')).body.filter(
      (i) => !ofFirstCommit.has(i.deploymentId ?? ''),
    );
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ env: 'qa', deploymentId: failed.id, resolvedAt: null });
    expect(incidents[0]!.title).toContain('check "smoke" failed');
    // the rollback's own checks ran and passed
    expect((await verified(server, rollback.id)).deployment.verification).toBe('verified');
  });

  it('passes a flaky check on its retry, fails on a hang (timeout) and on a missing command, and keeps a failed release when told', async () => {
    server = await startTestServer();
    const ports = await envPorts();
    const app = await createDeployableApp(server, ports, {
      qa: `on_check_failure: keep, checks: [{ name: flaky, run: "[ -f .tried ] || { touch .tried; echo first try fails; exit 1; }" }]`,
      // This test is about the checks alone: no revert tries the failed commits in QA meanwhile.
      extra: 'revert: { on_check_failure: off }',
    });
    const first = await deployedTo(server, 'qa', app.v1);
    const flaky = await verified(server, first.id);
    expect(flaky.deployment.verification).toBe('verified');
    expect(flaky.runs.map((r) => [r.attempt, r.status])).toEqual([
      [1, 'failed'],
      [2, 'passed'],
    ]);
    const finished = await eventsOf(server, 'check.finished');
    expect(finished.find((e) => e.data.attempt === 2)?.data).toMatchObject({ status: 'passed', flaky: true });

    const yaml = (await readFile(join(app.work.dir, 'gantry.yaml'), 'utf8')).replace(
      /checks: \[.*\] \}/,
      'checks: [{ name: hangs, run: "sleep 30", timeout: 1s, retries: 0 }, { name: never-reached, run: "true" }] }',
    );
    const v2 = await app.pushFiles({ 'gantry.yaml': yaml, VERSION: 'v2' }, 'a check that hangs');
    await server.api('POST', '/api/apps/shop/sync');
    const hung = await verified(server, (await deployedTo(server, 'qa', v2)).id);
    expect(hung.deployment.verification).toBe('check_failed');
    expect(hung.runs).toHaveLength(1);
    expect(hung.runs[0]).toMatchObject({ name: 'hangs', status: 'failed', error: 'timed out after 1s' });
    // on_check_failure: keep: v2 still serves, an incident says so
    expect(await serving(ports.qa)).toBe('v2 hello-qa');
    const kept = (await eventsOf(server, 'deployment.check_failed'))[0]!;
    expect(kept.data).toMatchObject({ action: 'keep' });
    const incidents = (await server.api<Incident[]>('GET', '/api/incidents?app=shop')).body;
    expect(incidents[0]!.title).toContain('kept running (on_check_failure: keep)');

    const missing = yaml.replace(
      /checks: \[.*\] \}/,
      'checks: [{ run: "no-such-command-here --now", retries: 0 }] }',
    );
    const v3 = await app.pushFiles({ 'gantry.yaml': missing, VERSION: 'v3' }, 'a check that does not exist');
    await server.api('POST', '/api/apps/shop/sync');
    const absent = await verified(server, (await deployedTo(server, 'qa', v3)).id);
    expect(absent.runs[0]).toMatchObject({ name: 'check 1', status: 'failed' });
    expect(absent.runs[0]!.error).toMatch(
      /^exited with code 127 \(command not found\): .*no-such-command-here/,
    );
  });

  it('cuts the checks of a release short when a newer deployment replaces it', async () => {
    server = await startTestServer();
    const ports = await envPorts();
    const app = await createDeployableApp(server, ports, {
      qa: `checks: [{ name: slow, run: "sleep 20" }]`,
    });
    const first = await deployedTo(server, 'qa', app.v1);
    await waitFor(
      async () =>
        (await server.api<ChecksAnswer>('GET', `/api/deployments/${first.id}/checks`)).body.runs.length > 0 ||
        undefined,
      'the slow check to start',
    );
    const v2 = await app.pushFiles({ VERSION: 'v2' }, 'v2');
    await server.api('POST', '/api/apps/shop/sync');
    const second = await deployedTo(server, 'qa', v2);
    const cut = await verified(server, first.id);
    expect(cut.deployment.verification).toBe('superseded');
    expect(cut.runs[0]).toMatchObject({
      status: 'cancelled',
      error: `cut short: ${second.id} replaced the release`,
    });
    const now = await server.api<ChecksAnswer>('GET', `/api/deployments/${second.id}/checks`);
    expect(now.body.deployment.verification).toBe('verifying');
  });
});
