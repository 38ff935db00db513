import type { Deployment, EnvironmentState } from '@gantry/contracts';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppFixture } from '../../server/test/support/app-fixture.js';
import {
  createDeployableApp,
  deployedTo,
  envPorts,
  serving,
} from '../../server/test/support/deploy-fixture.js';
import { cleanupAll, git } from '../../server/test/support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { type CliSandbox, makeCliSandbox } from './support/run-cli.js';

let server: TestServer;
let cli: CliSandbox;
let ports: Awaited<ReturnType<typeof envPorts>>;
let v1: string;
let app: AppFixture;

/** Deploy tags in the app's repository and in the server's mirror of it. */
async function deployTags(): Promise<{ remote: string[]; mirror: string[] }> {
  const remote = (await git(['ls-remote', '--tags', app.bare.dir])).stdout
    .split('\n')
    .filter((l) => l.includes('refs/tags/deploy/'))
    .map((l) => l.split('refs/tags/')[1]!);
  const mirror = server.gantry.apps.mirrorOf(await server.gantry.apps.get('shop'));
  const local = (await git(['tag', '-l', 'deploy/*'], mirror.path)).stdout.split('\n').filter(Boolean);
  return { remote, mirror: local };
}

beforeAll(async () => {
  server = await startTestServer();
  ports = await envPorts();
  const created = await createDeployableApp(server, ports);
  app = created;
  v1 = created.v1;
  await deployedTo(server, 'qa', v1);
  cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
});

afterAll(async () => {
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

describe('gantry deploy, status, history, rollback', () => {
  it('deploy --dry-run prints the plan and changes nothing', async () => {
    const res = await cli.run(['deploy', 'staging', 'HEAD', '--dry-run']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Plan for staging ← ${v1.slice(0, 10)} (driver process): start`);
    expect(
      (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=staging')).body,
    ).toHaveLength(0);
  });

  it('deploy tags, pushes and follows the deployment to the end', async () => {
    const res = await cli.run(['deploy', 'staging', v1.slice(0, 8), '--reason', 'cli test']);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/tagged deploy\/staging\/\d{8}T\d{6}Z-[0-9a-f]{7} and pushed it/);
    expect(res.stderr).toMatch(/deployment dep_\w+ succeeded \(start\)/);
    expect(await serving(ports.staging)).toBe('v1 hello-staging');
  });

  it('a protected environment needs --yes when there is no terminal', async () => {
    const refused = await cli.run(['deploy', 'production', 'HEAD']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('"production" is protected: pass --yes');
    const ok = await cli.run(['deploy', 'production', 'HEAD', '--yes', '--no-tag', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ status: 'succeeded', trigger: 'api', tag: null });
  });

  it('status --json shows app × environment with health and URL', async () => {
    const states = await cli.json<EnvironmentState[]>(['status', '--json']);
    expect(states.map((s) => [s.env, s.current?.sha, s.health?.healthy, s.url])).toEqual([
      ['qa', v1, true, `http://127.0.0.1:${ports.qa}`],
      ['staging', v1, true, `http://127.0.0.1:${ports.staging}`],
      ['production', v1, true, `http://127.0.0.1:${ports.production}`],
    ]);
    const table = await cli.run(['status']);
    expect(table.stdout).toMatch(/^APP\s+ENV\s+SHA/);
    expect(table.stdout).toContain('protected');
  });

  it('rollback with nothing to roll back to fails with what to do; history lists refusals too', async () => {
    const res = await cli.run(['rollback', 'qa']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('nothing to roll back to');
    const bad = await cli.run(['deploy', 'moon', 'HEAD', '--no-tag']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('environment "moon" is not declared');
    const history = await cli.json<Deployment[]>(['history', 'moon', '--json']);
    expect(history[0]).toMatchObject({ status: 'rejected' });
  });

  it('lock and unlock record who and why', async () => {
    expect((await cli.run(['lock', 'qa', '--reason', 'freeze'])).code).toBe(0);
    const states = await cli.json<EnvironmentState[]>(['status', '--app', 'shop', '--json']);
    expect(states.find((s) => s.env === 'qa')?.lock).toMatchObject({ reason: 'freeze' });
    expect((await cli.run(['unlock', 'qa'])).code).toBe(0);
    const after = await cli.json<EnvironmentState[]>(['status', '--json']);
    expect(after.find((s) => s.env === 'qa')?.lock).toBeNull();
  });
});

describe('gantry deploy checks the request before it pushes a tag', () => {
  it('an undeclared environment, an unknown ref and a commit without artifact fail and leave no tag', async () => {
    const before = await deployTags();
    const moon = await cli.run(['deploy', 'nonexistent', 'HEAD']);
    expect(moon.code).toBe(1);
    expect(moon.stderr).toContain('environment "nonexistent" is not declared in gantry.yaml');
    expect(moon.stderr).not.toContain('tagged');

    const ref = await cli.run(['deploy', 'qa', 'no-such-branch']);
    expect(ref.code).toBe(1);
    expect(ref.stderr).toContain('no-such-branch');

    // Pushed without telling the server: the SHA resolves after a fetch but was never built.
    const unbuilt = await app.pushFiles({ VERSION: 'unbuilt' }, 'never built');
    const noArtifact = await cli.run(['deploy', 'qa', unbuilt.slice(0, 10)]);
    expect(noArtifact.code).toBe(1);
    expect(noArtifact.stderr).toContain(`commit ${unbuilt.slice(0, 12)} has no artifact`);

    const dry = await cli.run(['deploy', 'nonexistent', 'HEAD', '--dry-run']);
    expect(dry.code).toBe(1);
    expect(dry.stderr).toContain('would be refused: environment "nonexistent" is not declared');

    expect(await deployTags()).toEqual(before);
    const refusals = await cli.json<Deployment[]>(['history', 'nonexistent', '--json']);
    expect(refusals[0]).toMatchObject({ status: 'rejected', tag: null, trigger: 'cli' });
  });

  it('a tag pushed for a request the server then fails is deleted again', async () => {
    // A real failure after the gates passed and the tag was pushed: the database refuses the row.
    const db = server.gantry.database.db;
    await sql`CREATE TRIGGER no_deployments BEFORE INSERT ON deployments BEGIN SELECT RAISE(ABORT, 'database went away'); END`.execute(
      db,
    );
    const seenBefore = await db.selectFrom('seen_tags').select('name').execute();
    try {
      const res = await cli.run(['deploy', 'qa', v1.slice(0, 8)]);
      expect(res.code).toBe(1);
    } finally {
      await sql`DROP TRIGGER no_deployments`.execute(db);
    }
    // The tag was made and pushed (it is remembered as seen)…
    const seenAfter = await db.selectFrom('seen_tags').select('name').execute();
    const made = seenAfter.map((t) => t.name).filter((t) => !seenBefore.some((b) => b.name === t));
    expect(made).toEqual([expect.stringMatching(/^deploy\/qa\//)]);
    // …and is gone again, from the repository and the mirror.
    const tags = await deployTags();
    expect(tags.remote.filter((t) => t.startsWith('deploy/qa/'))).toEqual([]);
    expect(tags.mirror.filter((t) => t.startsWith('deploy/qa/'))).toEqual([]);
  });
});
