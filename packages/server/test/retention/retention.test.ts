import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type {
  Artifact,
  Build,
  Deployment,
  GantryEvent,
  RetentionReport,
  RetentionStatus,
} from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppFixture, createApp, finishedBuild } from '../support/app-fixture.js';
import { deploymentDone, envPorts, SERVER_JS, serving } from '../support/deploy-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

const DAY = 86_400_000;
const short = (sha: string) => sha.slice(0, 12);

/** No environment deploys by itself: every deployment here is asked for, so the records are exact. */
const yaml = (ports: { qa: number; staging: number; production: number }) => `build:
  steps:
    - { name: package, run: "mkdir -p dist && cp server.js VERSION dist/" }
  artifact: { path: dist }
run:
  command: node server.js
  port_env: PORT
  health: { path: /healthz, timeout: 20s }
environments:
  qa: { port: ${ports.qa}, standby: 0 }
  staging: { port: ${ports.staging} }
  production: { port: ${ports.production}, protected: true }
`;

describe.each(engines)('artifact retention on $name', (engine) => {
  let server: TestServer;
  let app: AppFixture;
  let qaPort: number;
  /** SHA of each version, a (oldest) … h (newest). */
  const sha: Record<string, string> = {};
  /** Each version's artifact, as built. */
  const art: Record<string, Artifact> = {};
  const blob = (a: Artifact) =>
    join(server.dataDir, 'artifacts', 'sha256', `${a.digest.replace('sha256:', '')}.tar.gz`);
  const idsOf = (items: { artifact: Artifact }[]) => items.map((i) => i.artifact.id);
  const reasonsOf = (r: RetentionReport, v: string) =>
    [...r.kept, ...r.collected].find((i) => i.artifact.id === art[v]!.id)?.reasons;

  async function deploy(env: string, v: string): Promise<Deployment> {
    const res = await server.api<Deployment>('POST', '/api/apps/shop/deployments', {
      env,
      ref: sha[v],
      confirm: true,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  async function artifactOf(v: string): Promise<Artifact> {
    const { body } = await server.api<Artifact[]>(
      'GET',
      `/api/artifacts?app=shop&includePruned=true&sha=${sha[v]}`,
    );
    return body[0]!;
  }

  beforeAll(async () => {
    server = await startTestServer(engine, { artifactsKeep: 1, artifactsGc: false });
    const ports = await envPorts();
    qaPort = ports.qa;
    app = await createApp(server, yaml(ports), { register: false });
    sha.a = await app.pushFiles({ 'server.js': SERVER_JS, VERSION: 'a' }, 'a');
    const add = await server.api<{ buildIds: string[] }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
    });
    expect((await finishedBuild(server, add.body.buildIds[0]!)).status).toBe('succeeded');
    for (const v of ['b', 'c', 'd', 'e', 'f', 'g', 'h']) {
      sha[v] = await app.pushFiles({ VERSION: v }, v);
      const sync = await server.api<{ buildIds: string[] }>('POST', '/api/apps/shop/sync');
      const build = await finishedBuild(server, sync.body.buildIds[0]!);
      expect(build.status, build.error ?? '').toBe('succeeded');
    }
    for (const v of Object.keys(sha)) art[v] = await artifactOf(v);

    // production ran b, then c: it serves c and keeps b warm, which is also where a rollback goes.
    for (const v of ['b', 'c'])
      expect((await deploymentDone(server, (await deploy('production', v)).id)).status).toBe('succeeded');
    // qa (standby: 0) ran d, then c: it serves c and would roll back to d, which it does not keep warm.
    for (const v of ['d', 'c'])
      expect((await deploymentDone(server, (await deploy('qa', v)).id)).status).toBe('succeeded');
    // staging is locked: a deployment of g waits in its queue.
    expect(
      (await server.api('POST', '/api/apps/shop/environments/staging/lock', { reason: 'retention test' }))
        .status,
    ).toBe(200);
    expect((await deploy('staging', 'g')).status).toBe('queued');

    // Built a month ago but h (new) and f (five days ago), in their order: only the rules below keep them.
    const db = server.gantry.database.db;
    for (const v of Object.keys(sha)) {
      if (v === 'h') continue;
      const ago = (v === 'f' ? 5 : 30) * DAY;
      const createdAt = new Date(Date.parse(art[v]!.createdAt) - ago).toISOString();
      await db.updateTable('artifacts').set({ created_at: createdAt }).where('id', '=', art[v]!.id).execute();
    }
  });

  afterAll(async () => server?.close());

  it('keeps what the policy says with its reasons, collects the rest from disk, and never the current, standby or rollback release', async () => {
    const policy = await server.api<RetentionStatus>('GET', '/api/retention/policy');
    expect(policy.body).toEqual({
      policy: { keepPerApp: 1, maxAge: '14d', maxAgeMs: 14 * DAY, scheduled: false },
      lastRun: null,
    });

    const dry = await server.api<RetentionReport>('POST', '/api/retention/run', { dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body.dryRun).toBe(true);
    expect(idsOf(dry.body.collected)).toEqual([art.e!.id, art.a!.id]);
    expect(idsOf(dry.body.kept).sort()).toEqual(['b', 'c', 'd', 'f', 'g', 'h'].map((v) => art[v]!.id).sort());
    const [qaNow, prodNow] = await Promise.all(
      ['qa', 'production'].map(
        async (env) =>
          (
            await server.api<Deployment[]>(
              'GET',
              `/api/deployments?app=shop&env=${env}&status=succeeded&limit=1`,
            )
          ).body[0]!,
      ),
    );
    const queued = (
      await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=staging&status=queued')
    ).body[0]!;
    expect(reasonsOf(dry.body, 'h')).toEqual([
      'among the 1 newest of shop (#1)',
      expect.stringMatching(/^younger than 14d \(built \d+(\.\d)? (ms|s|min) ago\)$/),
    ]);
    expect(reasonsOf(dry.body, 'g')).toEqual([`deployment ${queued.id} to staging is queued`]);
    expect(reasonsOf(dry.body, 'f')).toEqual(['younger than 14d (built 5 d ago)']);
    expect(reasonsOf(dry.body, 'd')).toEqual(['qa would roll back to it']);
    expect(reasonsOf(dry.body, 'c')).toEqual([
      `production runs it (${prodNow!.id})`,
      `qa runs it (${qaNow!.id})`,
    ]);
    expect(reasonsOf(dry.body, 'b')).toEqual([
      'warm standby of production',
      'production would roll back to it',
    ]);
    expect(reasonsOf(dry.body, 'a')).toEqual([
      'not among the 1 newest of shop (#8)',
      expect.stringMatching(/^built 30 d ago, older than 14d$/),
      'no environment runs it, keeps it warm or would roll back to it, and no deployment waits for it',
    ]);
    // A dry run changes nothing.
    for (const v of Object.keys(sha)) expect(existsSync(blob(art[v]!)), v).toBe(true);
    expect((await artifactOf('a')).prunedAt).toBeNull();

    const run = await server.api<RetentionReport>('POST', '/api/retention/run', {});
    expect(run.status).toBe(200);
    expect(run.body.collected.map((c) => [c.artifact.id, c.storage])).toEqual([
      [art.e!.id, 'deleted'],
      [art.a!.id, 'deleted'],
    ]);
    expect(run.body.failed).toEqual([]);
    expect(run.body.freedBytes).toBe(art.a!.size + art.e!.size);
    for (const v of Object.keys(sha)) expect(existsSync(blob(art[v]!)), v).toBe(!['a', 'e'].includes(v));
    expect((await artifactOf('a')).prunedAt).not.toBeNull();
    const { body: live } = await server.api<Artifact[]>('GET', '/api/artifacts?app=shop');
    expect(live.map((a) => a.id).sort()).toEqual(idsOf(run.body.kept).sort());

    // One event per collected artifact, naming who ran it, why and what became of the bytes.
    const events = (await server.api<GantryEvent[]>('GET', '/api/events?limit=1000')).body.filter(
      (e) => e.type === 'artifact.pruned',
    );
    expect(events.map((e) => [e.subject, e.actor, e.data.by, e.data.storage]).sort()).toEqual(
      [
        [art.a!.id, 'token:admin', 'retention', 'deleted'],
        [art.e!.id, 'token:admin', 'retention', 'deleted'],
      ].sort(),
    );
    expect(events.find((e) => e.subject === art.a!.id)?.data).toMatchObject({
      sha: sha.a,
      digest: art.a!.digest,
      reasons: reasonsOf(dry.body, 'a'),
      policy: { keepPerApp: 1, maxAge: '14d' },
    });

    // The same policy again finds nothing more.
    const again = await server.api<RetentionReport>('POST', '/api/retention/run', {});
    expect(again.body.collected).toEqual([]);
    const status = await server.api<RetentionStatus>('GET', '/api/retention/policy');
    expect(status.body.lastRun).toMatchObject({ dryRun: false, actor: 'token:admin', collected: 0, kept: 6 });

    // The strictest policy (keep none, no age) takes only what nothing needs: the newest and the young.
    const strict = await server.api<RetentionReport>('POST', '/api/retention/run', {
      keepPerApp: 0,
      maxAge: '0s',
    });
    expect(idsOf(strict.body.collected)).toEqual([art.h!.id, art.f!.id]);
    expect(idsOf(strict.body.kept).sort()).toEqual(['b', 'c', 'd', 'g'].map((v) => art[v]!.id).sort());
    for (const v of ['b', 'c', 'd', 'g']) expect(existsSync(blob(art[v]!)), v).toBe(true);
    // The server's own policy is unchanged by a run's overrides.
    expect((await server.api<RetentionStatus>('GET', '/api/retention/policy')).body.policy.keepPerApp).toBe(
      1,
    );
  });

  it('refuses a deploy of a collected artifact with 409 and how to get it back; a rebuild brings it back', async () => {
    const refused = await server.api<{ message: string }>('POST', '/api/apps/shop/deployments', {
      env: 'qa',
      ref: sha.a,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain(
      `the artifact of ${short(sha.a!)} (${art.a!.id}) was collected on `,
    );
    expect(refused.body.message).toContain(`build the commit again with \`gantry build ${short(sha.a!)}\``);
    // Nothing was recorded for a refusal a person got as an answer.
    const qa = (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=qa')).body;
    expect(qa.filter((d) => d.sha === sha.a)).toEqual([]);
    // The dry run of a deploy says the same.
    const dryDeploy = await server.api<{ refused: string | null }>('POST', '/api/apps/shop/deployments', {
      env: 'qa',
      ref: sha.a,
      dryRun: true,
    });
    expect(dryDeploy.body.refused).toContain('was collected on');

    const rebuild = await server.api<{ kind: string; build: Build }>('POST', '/api/builds', {
      app: 'shop',
      ref: sha.a,
    });
    expect(rebuild.body.kind).toBe('queued');
    expect((await finishedBuild(server, rebuild.body.build.id)).status).toBe('succeeded');
    const back = await artifactOf('a');
    expect(back).toMatchObject({ current: true, prunedAt: null });
    expect(back.id).not.toBe(art.a!.id);
    const d = await deploy('qa', 'a');
    expect((await deploymentDone(server, d.id)).status).toBe('succeeded');
    expect(
      await waitFor(async () => ((await serving(qaPort)) === 'a' ? true : undefined), 'qa to serve a'),
    ).toBe(true);
  });
});
