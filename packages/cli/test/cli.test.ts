import type { App, Artifact, Build } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  cleanupAll,
  createBareRepo,
  createWorkClone,
  type WorkClone,
} from '../../server/test/support/git-fixtures.js';
import { type HttpGate, httpGate } from '../../server/test/support/sandbox-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../../server/test/support/test-server.js';
import { type CliSandbox, makeCliSandbox } from './support/run-cli.js';

const gantryYaml = (steps: string) => `app: shop
build:
  steps:
${steps}
    - { name: package, run: "mkdir -p dist && echo $GANTRY_SHA > dist/sha.txt" }
  artifact: { path: dist }
`;
const FAST = gantryYaml('    - { name: hello, run: "echo hello from $GANTRY_APP" }');
// Waits (at most 20 s) for the test to open the gate, so that `logs -f` surely sees it running.
const gatedYaml = (gate: HttpGate) =>
  gantryYaml(
    `    - { name: wait, run: ${JSON.stringify(`echo waiting; ${gate.waitCommand(200)}; echo done`)} }`,
  );
/** The first line of a build's log says where its steps ran. */
const SANDBOX_LINE = String.raw`gantry: (sandbox bwrap \(network on\)|WARNING no sandbox: .*)\n`;
const FAILING = gantryYaml('    - { name: boom, run: "echo going down; exit 3" }');

type AddedApp = App & { webhookSecret: string; buildIds: string[] };

let server: TestServer;
let cli: CliSandbox;
let bare: { dir: string; url: string };
let work: WorkClone;

async function commitAndPush(yaml: string, message: string): Promise<string> {
  await work.write('gantry.yaml', yaml);
  await work.write('version.txt', message);
  const sha = await work.commit(message);
  await work.push();
  return sha;
}

async function finished(id: string): Promise<Build> {
  return waitFor(async () => {
    const { body } = await server.api<Build>('GET', `/api/builds/${id}`);
    return ['succeeded', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
  }, `build ${id}`);
}

beforeAll(async () => {
  server = await startTestServer();
  cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
  bare = await createBareRepo();
  work = await createWorkClone(bare.url);
});

afterAll(async () => {
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

// The tests share one server and one app and run in order: each builds on the state before.
describe('gantry CLI against a real server', () => {
  let firstSha: string;
  let firstBuild: string;

  it('app add registers the repository and queues a build of its head', async () => {
    firstSha = await commitAndPush(FAST, 'first');
    const app = await cli.json<AddedApp>(['app', 'add', 'shop', bare.dir, '--json']);
    expect(app).toMatchObject({ name: 'shop', repoUrl: bare.dir, branch: 'main', headSha: firstSha });
    expect(app.webhookSecret).toEqual(expect.any(String));
    expect(app.buildIds).toHaveLength(1);
    firstBuild = app.buildIds[0]!;
    const { body } = await server.api<Build>('GET', `/api/builds/${firstBuild}`);
    expect(body).toMatchObject({ sha: firstSha, reason: expect.any(String) });
  });

  it('app list shows it; adding the same name again fails and says the name exists', async () => {
    const [list, again] = await Promise.all([
      cli.json<App[]>(['app', 'list', '--json']),
      cli.run(['app', 'add', 'shop', bare.dir]),
    ]);
    expect(list.map((a) => [a.name, a.repoUrl, a.headSha])).toEqual([['shop', bare.dir, firstSha]]);
    expect(again.code).not.toBe(0);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/^error: app "shop" already exists/);
  });

  let sha: string;
  let artifactDigest: string;

  it('build HEAD follows the build to the end and prints the artifact digest', async () => {
    expect((await finished(firstBuild)).status).toBe('succeeded');
    sha = await commitAndPush(FAST, 'second');
    const res = await cli.run(['build', 'HEAD', '--app', 'shop']);
    expect(res.stderr).toMatch(/build \S+ succeeded in /);
    expect(res.code).toBe(0);
    const m = res.stdout.match(/^artifact (\S+) (sha256:[0-9a-f]{64}) \(\d+ bytes\) for (\w+)\n$/);
    expect(m, res.stdout).not.toBeNull();
    expect(sha.startsWith(m![3]!)).toBe(true);
    artifactDigest = m![2]!;
  });

  it('build of a SHA that has an artifact says so instead of building again', async () => {
    const res = await cli.run(['build', sha.slice(0, 8)]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`${sha.slice(0, 10)} already has artifact ${artifactDigest}`);
    expect(res.stdout).toContain('--rebuild');
  });

  it('build --rebuild --json builds again into a new artifact', async () => {
    const artifactsOfSha = async () =>
      (await server.api<Artifact[]>('GET', `/api/artifacts?sha=${sha}`)).body;
    const [before] = await artifactsOfSha();
    const build = await cli.json<Build>(['build', sha, '--rebuild', '--json']);
    expect(build).toMatchObject({ sha, status: 'succeeded', reason: 'rebuild' });
    expect(build.artifactId).toEqual(expect.any(String));
    expect(build.artifactId).not.toBe(before?.id);
    const after = await artifactsOfSha();
    expect(after.map((a) => [a.id, a.current]).sort()).toEqual(
      [
        [before!.id, false],
        [build.artifactId!, true],
      ].sort(),
    );
  });

  it('build of an unknown ref fails and says unknown ref', async () => {
    const res = await cli.run(['build', 'nosuchref']);
    expect(res.code).not.toBe(0);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('unknown ref "nosuchref"');
  });

  it('builds and artifacts list what was built', async () => {
    const [builds, table, artifacts] = await Promise.all([
      cli.json<Build[]>(['builds', '--json']),
      cli.run(['builds', '--app', 'shop']),
      cli.json<Artifact[]>(['artifacts', '--json']),
    ]);
    expect(builds.map((b) => [b.sha, b.status, b.app])).toEqual([
      [sha, 'succeeded', 'shop'],
      [sha, 'succeeded', 'shop'],
      [firstSha, 'succeeded', 'shop'],
    ]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+APP\s+SHA\s+STATUS\s+REASON\s+QUEUED\s+TOOK\s+ERROR$/);
    expect(lines.slice(1)).toHaveLength(3);
    for (const [i, b] of builds.entries()) expect(lines[i + 1]).toMatch(new RegExp(`^${b.id}\\s+shop\\s+`));
    // the first commit's, the second's and the second's replaced one (kept until pruned)
    expect(artifacts.map((a) => [a.sha, a.current])).toEqual(
      expect.arrayContaining([
        [firstSha, true],
        [sha, true],
        [sha, false],
      ]),
    );
    expect(artifacts).toHaveLength(3);
    for (const a of artifacts) {
      expect(a.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(a).toMatchObject({ app: 'shop', size: expect.any(Number), buildId: expect.any(String) });
    }
  });

  it('logs prints each step under a ==> header', async () => {
    const res = await cli.run(['logs', firstBuild]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^==> hello\\n${SANDBOX_LINE}hello from shop\\n==> package\\n`));
  });

  it('logs -f streams a running build until it finishes', async () => {
    const gate = await httpGate();
    onTestFinished(() => gate.close());
    const slowSha = await commitAndPush(gatedYaml(gate), 'slow');
    const queued = await cli.run(['build', 'HEAD', '--no-follow']);
    expect(queued.code).toBe(0);
    const id = queued.stdout.trim();
    expect(id).toMatch(/^\S+$/);
    expect((await server.api<Build>('GET', `/api/builds/${id}`)).body).toMatchObject({ sha: slowSha });

    const follow = cli.start(['logs', '-f', id]);
    await follow.waitForStdout(new RegExp(`^==> wait\\n${SANDBOX_LINE}waiting\\n`));
    const { body: meanwhile } = await server.api<Build>('GET', `/api/builds/${id}`);
    expect(meanwhile.status).toBe('running');
    expect(follow.child.exitCode).toBeNull();

    gate.open();
    const res = await follow.done;
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^==> wait\\n${SANDBOX_LINE}waiting\\ndone\\n==> package\\n`));
    const { body: atEnd } = await server.api<Build>('GET', `/api/builds/${id}`);
    expect(atEnd.status).toBe('succeeded');
  });

  it('a failing step makes build exit non-zero, naming the step and its exit code', async () => {
    await commitAndPush(FAILING, 'failing');
    const res = await cli.run(['build']);
    expect(res.code).not.toBe(0);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/build \S+ failed/);
    expect(res.stderr).toContain('step "boom" failed with exit code 3');
    expect(res.stderr).toContain('going down');
  });

  it('hook install makes a git push start a build', async () => {
    const res = await cli.run(['hook', 'install', bare.dir, '--app', 'shop']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Installed ${bare.dir}/hooks/post-receive`);

    const pushedSha = await commitAndPush(FAST, 'pushed');
    const build = await waitFor(
      async () => {
        const builds = await cli.json<Build[]>(['builds', '--json']);
        return builds.find((b) => b.sha === pushedSha);
      },
      'a build of the pushed commit',
      15_000,
    );
    expect(build).toMatchObject({ app: 'shop', reason: 'push' });
  });
});
