import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Build } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishedBuild } from '../../server/test/support/app-fixture.js';
import {
  createDeployableApp,
  type DeployEnvPorts,
  deployedTo,
  deploymentDone,
  deployYaml,
  envPorts,
} from '../../server/test/support/deploy-fixture.js';
import { cleanupAll } from '../../server/test/support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../../server/test/support/test-server.js';
import { type CliSandbox, makeCliSandbox } from './support/run-cli.js';

let server: TestServer;
let cli: CliSandbox;
let ports: DeployEnvPorts;
let app: Awaited<ReturnType<typeof createDeployableApp>>;

beforeAll(async () => {
  server = await startTestServer();
  ports = await envPorts();
  app = await createDeployableApp(server, ports);
  await deployedTo(server, 'qa', app.v1);
  cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
});

afterAll(async () => {
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

/** Pushes a commit, lets the server see it and returns the SHA with the build it started. */
async function pushAndBuild(files: Record<string, string>, message: string): Promise<[string, string]> {
  const sha = await app.pushFiles(files, message);
  await server.api('POST', '/api/apps/shop/sync');
  const build = await waitFor(
    async () => (await server.api<Build[]>('GET', `/api/builds?app=shop&sha=${sha}`)).body[0],
    `a build of ${sha}`,
  );
  return [sha, build.id];
}

const BAD_YAML = `build:
  steps:
    - { name: package, run: "true" }
  artifact: { path: . }
environments:
  qa: { port: nope }
`;

describe('what a new user trips over: messages that say what happened', () => {
  it('a commit whose gantry.yaml does not parse: deploy says so and where; builds and logs show the reason; logs -f exits 1', async () => {
    const [sha, id] = await pushAndBuild({ 'gantry.yaml': BAD_YAML }, 'bad yaml');
    expect((await finishedBuild(server, id)).status).toBe('failed');

    const deploy = await cli.run(['deploy', 'qa', sha, '--no-tag']);
    expect(deploy.code).toBe(1);
    expect(deploy.stderr).toContain(`gantry.yaml at ${sha.slice(0, 12)} does not parse`);
    expect(deploy.stderr).toMatch(/gantry\.yaml:6:\d+: environments\.qa\.port: expected a number/);
    expect(deploy.stderr).not.toContain('is not declared');

    const builds = await cli.run(['builds']);
    expect(builds.stdout).toMatch(/gantry\.yaml is not valid: gantry\.yaml:6:\d+: environments\.qa\.port/);

    const logs = await cli.run(['logs', id]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain(`build ${id} failed before any step ran:`);
    expect(logs.stdout).toMatch(/gantry\.yaml:6:\d+: environments\.qa\.port/);

    const follow = await cli.run(['logs', '-f', id]);
    expect(follow.code).toBe(1);
    expect(follow.stderr).toMatch(
      new RegExp(`error: build ${id} failed: gantry\\.yaml is not valid: gantry\\.yaml:6`),
    );
  });

  it('a commit whose build failed: deploy names the build and says a rebuild will not help; logs -f exits 1', async () => {
    const yaml = deployYaml(ports).replace(
      'mkdir -p dist && cp server.js VERSION dist/',
      'echo the-tests-broke && exit 3',
    );
    const [sha, id] = await pushAndBuild({ 'gantry.yaml': yaml, VERSION: 'v-broken' }, 'broken build');
    expect((await finishedBuild(server, id)).status).toBe('failed');

    const deploy = await cli.run(['deploy', 'qa', sha, '--no-tag']);
    expect(deploy.code).toBe(1);
    expect(deploy.stderr).toContain(`commit ${sha.slice(0, 12)} has no artifact: its build ${id} failed`);
    expect(deploy.stderr).toContain('exit code 3: the-tests-broke');
    expect(deploy.stderr).toContain('will not help unless the failure was flaky');
    expect(deploy.stderr).not.toContain('Build it with');

    const follow = await cli.run(['logs', '-f', id]);
    expect(follow.code).toBe(1);
    expect(follow.stdout).toContain('the-tests-broke');
    expect(follow.stderr).toContain(`build ${id} failed: step "package" failed with exit code 3`);
  });

  it('a commit whose build is still running: deploy says so and how to follow it', async () => {
    const yaml = deployYaml(ports).replace('mkdir -p dist', 'sleep 60 && mkdir -p dist');
    const [sha, id] = await pushAndBuild({ 'gantry.yaml': yaml, VERSION: 'v-slow' }, 'slow build');
    try {
      await waitFor(
        async () =>
          (await server.api<Build>('GET', `/api/builds/${id}`)).body.status === 'running' || undefined,
        `build ${id} running`,
      );
      const deploy = await cli.run(['deploy', 'qa', sha, '--no-tag']);
      expect(deploy.code).toBe(1);
      expect(deploy.stderr).toContain(`has no artifact yet: its build ${id} is running`);
      expect(deploy.stderr).toContain(`gantry logs -f ${id}`);
    } finally {
      await server.api('POST', `/api/builds/${id}/cancel`);
      await finishedBuild(server, id);
    }
  });

  it('a token the server does not know: the CLI says where it came from and how to get a new one', async () => {
    const env = await cli.run(['app', 'list'], { env: { GANTRY_TOKEN: 'gnt_wrong' } });
    expect(env.code).toBe(1);
    expect(env.stderr).toContain('unknown API token');
    expect(env.stderr).toContain('the token from the environment variable GANTRY_TOKEN');
    expect(env.stderr).toContain('`gantry token create <name>`, then `gantry login <url> <token>`');

    // No GANTRY_*: a local server's cli.json, then the login config.
    const plain = await makeCliSandbox({});
    try {
      const dataDir = join(plain.cwd, '.gantry');
      await mkdir(dataDir);
      await writeFile(join(dataDir, 'cli.json'), JSON.stringify({ url: server.url, token: 'gnt_stale' }));
      const fromDataDir = await plain.run(['app', 'list']);
      expect(fromDataDir.code).toBe(1);
      expect(fromDataDir.stderr).toContain(
        `the token from ${join(dataDir, 'cli.json')} (written by \`gantry server\``,
      );

      const other = join(plain.xdg, 'elsewhere');
      await mkdir(other);
      const configFile = join(plain.xdg, 'gantry', 'config.json');
      await mkdir(join(plain.xdg, 'gantry'));
      await writeFile(configFile, JSON.stringify({ url: server.url, token: 'gnt_old' }));
      const fromLogin = await plain.run(['app', 'list'], { cwd: other });
      expect(fromLogin.code).toBe(1);
      expect(fromLogin.stderr).toContain(`the token from ${configFile} (saved by \`gantry login\`)`);
    } finally {
      await plain.cleanup();
    }
  });

  it('a deployment queued behind a lock says whose lock it is, and --timeout stops following with what to do', async () => {
    const lock = await server.api('POST', '/api/apps/shop/environments/qa/lock', {
      reason: 'release freeze',
      actor: 'ann',
    });
    expect(lock.status).toBeLessThan(300);
    const res = await cli.run(['deploy', 'qa', app.v1, '--no-tag', '--timeout', '2s']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      /qa ← \w+: queued \(position 1\): "qa" is locked by ann.* \(release freeze\) since 20\d\d-/,
    );
    expect(res.stderr).toContain('it runs once `gantry unlock qa` lifts the lock');
    expect(res.stderr).toMatch(
      /error: stopped following deployment dep_\w+ after 2(\.0)? ?s: it is still queued and stays queued/,
    );
    const queued = res.stderr.match(/deployment (dep_\w+)/)![1]!;
    await server.api('DELETE', '/api/apps/shop/environments/qa/lock');
    expect((await deploymentDone(server, queued)).status).toBe('succeeded');

    const bad = await cli.run(['deploy', 'qa', app.v1, '--no-tag', '--timeout', 'soon']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--timeout "soon": expected a duration');
  });

  it('words: "pass --yes to deploy …", "1 day"', async () => {
    const deploy = await cli.run(['deploy', 'production', 'HEAD', '--no-tag']);
    expect(deploy.code).toBe(1);
    expect(deploy.stderr).toContain(
      '"production" is protected: pass --yes to deploy HEAD to production without a prompt',
    );
    const rollback = await cli.run(['rollback', 'production']);
    expect(rollback.stderr).toContain('pass --yes to roll production back without a prompt');
    const metrics = await cli.run(['metrics', '--env', 'qa', '--days', '1']);
    expect(metrics.stdout).toMatch(/^shop \/ qa: .* \(1 day, per /);
  });

  it('an admin token on an SDK route: "not an admin token"', async () => {
    const res = await fetch(`${server.url}/api/client/features`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain('not an admin token');
  });
});
