import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Build } from '@gantry/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp, finishedBuild } from '../support/app-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll, makeTempDir } from '../support/git-fixtures.js';
import { HAS_BWRAP } from '../support/sandbox-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const SENTINEL = `sentinel-${randomBytes(8).toString('hex')}`;
const saved = { ...process.env };
let serverHome = '';
let listener: Server;
let listenerPort = 0;

beforeAll(async () => {
  // The server's own environment and home hold secrets a step must never see.
  serverHome = await makeTempDir('gantry-server-home-');
  await mkdir(join(serverHome, '.gantry'), { recursive: true });
  await writeFile(join(serverHome, '.gantry', 'cli.json'), `{"token":"home-${SENTINEL}"}\n`);
  process.env.HOME = serverHome;
  process.env.GANTRY_TOKEN = `token-${SENTINEL}`;
  process.env.SECRET_SENTINEL = `env-${SENTINEL}`;
  process.env.GANTRY_DATABASE_URL = `postgres://gantry:pw-${SENTINEL}@127.0.0.1:5432/prod`;
  listener = createServer((_req, res) => res.end('listener-reached'));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  listenerPort = (listener.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const key of ['HOME', 'GANTRY_TOKEN', 'SECRET_SENTINEL', 'GANTRY_DATABASE_URL']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
  await new Promise((resolve) => listener.close(resolve));
  await cleanupAll();
});

async function logOf(server: TestServer, id: string): Promise<string> {
  return fetch(`${server.url}/api/builds/${id}/logs`, {
    headers: { authorization: `Bearer ${server.token}` },
  }).then((r) => r.text());
}

function yaml(steps: string[], extra = '', artifact = '.'): string {
  const lines = steps.map((run, i) => `    - name: s${i}\n      run: ${JSON.stringify(run)}`);
  return `build:\n  steps:\n${lines.join('\n')}\n  artifact: { path: ${artifact} }\n${extra}`;
}

/** A step that tries every way to the installation's secrets and prints whatever it finds. */
function snoop(server: TestServer, otherMirror: string): string[] {
  const d = server.dataDir;
  return [
    'env; echo "token=$GANTRY_TOKEN url=$GANTRY_DATABASE_URL secret=$SECRET_SENTINEL"',
    `cat ${d}/cli.json; ls -la ${d} ${d}/repos; cat ${d}/gantry.db | tr -c '[:print:]\\n' '.'`,
    `ls -la ${otherMirror}; git --git-dir ${otherMirror} show HEAD:secret.txt; cat ${otherMirror}/config`,
    `for f in /proc/*/environ; do echo "== $f"; tr '\\0' '\\n' < $f; done`,
    `cat /proc/1/environ | tr '\\0' '\\n'; ls -la ${serverHome} ${serverHome}/.gantry; cat ${serverHome}/.gantry/cli.json`,
    'cat ~/.gantry/cli.json; ls -la ~ / /tmp; cat /etc/shadow',
  ].map((s) => `${s} || true`);
}

describe.skipIf(!HAS_BWRAP).each(engines)('a sandboxed build on $name', (engine) => {
  // One server for the tests of an engine; each test's apps have names of their own.
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(engine, { buildsSandbox: 'bwrap' });
  });
  afterAll(async () => server?.close());

  it('cannot read the data dir, the database, another app, the server env, its /proc or its home', async () => {
    const other = await createApp(server, yaml(['true']), { name: 'other' });
    const otherSecret = `other-app-${SENTINEL}`;
    await other.pushFiles({ 'secret.txt': otherSecret });
    await server.api('POST', '/api/apps/other/sync');
    const { body: apps } = await server.api<{ id: string; name: string }[]>('GET', '/api/apps');
    const otherMirror = join(server.dataDir, 'repos', `${apps.find((a) => a.name === 'other')!.id}.git`);
    expect(execFileSync('git', ['--git-dir', otherMirror, 'log', '--oneline']).toString()).not.toBe('');

    const steps = [
      ...snoop(server, otherMirror),
      'echo "own=$(cat own.txt) home=$HOME sha=$GANTRY_SHA"',
      // git works on the build's own commit, without the mirror's config (the repository URL).
      '(echo bogus > "$(git rev-parse --git-dir)/HEAD") 2>/dev/null || echo entry-read-only',
      'echo "git=$(git rev-parse HEAD) $(git log -1 --format=%s)"; git remote -v; cat "$(git rev-parse --git-common-dir)/config" "$(git rev-parse --git-common-dir)/FETCH_HEAD" || true',
    ];
    const app = await createApp(server, yaml(steps), { name: 'shop' });
    await app.pushFiles({ 'own.txt': 'visible' }, 'own commit');
    const sync = await server.api<{ buildIds: string[] }>('POST', '/api/apps/shop/sync');
    const build = await finishedBuild(server, sync.body.buildIds[0]!, 60_000);
    const log = await logOf(server, build.id);

    expect(build.status).toBe('succeeded');
    expect(log.split('\n')[1]).toBe('gantry: sandbox bwrap (network on)');
    // What a build may see, it sees: its own files, HOME inside the worktree, GANTRY_* and CI.
    expect(log).toMatch(new RegExp(`own=visible home=.*/work/${build.id}/\\.gantry-home sha=${build.sha}`));
    expect(log).toContain('CI=true');
    expect(log).toContain(`git=${build.sha} own commit`);
    expect(log).toContain('entry-read-only');
    expect(log).not.toContain(app.bare.dir);
    // …and none of the secrets, whichever way it tried.
    const webhookSecrets = await Promise.all(
      ['shop', 'other'].map(
        async (name) =>
          (await server.api<{ webhookSecret: string }>('GET', `/api/apps/${name}/webhook-secret`)).body
            .webhookSecret,
      ),
    );
    for (const secret of [
      SENTINEL,
      server.token,
      otherSecret,
      'root:',
      engine.url ?? 'no-url',
      ...webhookSecrets,
    ]) {
      expect(secret.length).toBeGreaterThan(4);
      expect(log).not.toContain(secret);
    }
  });

  it("a .git link planted through the cache does not mount another app's mirror", async () => {
    const other = await createApp(server, yaml(['true']), { name: 'other-app' });
    const otherSecret = `other-app-${SENTINEL}`;
    await other.pushFiles({ 'secret.txt': otherSecret });
    await server.api('POST', '/api/apps/other-app/sync');
    const { body: apps } = await server.api<{ id: string; name: string }[]>('GET', '/api/apps');
    const otherId = apps.find((a) => a.name === 'other-app')!.id;
    const otherMirror = join(server.dataDir, 'repos', `${otherId}.git`);
    // The first build plants a worktree link to a fake entry whose commondir is the other mirror;
    // the cache brings both into the next build before its steps run.
    const plant = `printf 'gitdir: fake\\n' > .git; mkdir -p fake; echo ../../../repos/${otherId}.git > fake/commondir; echo planted`;
    const read = `git --git-dir=${otherMirror} show main:secret.txt || echo not-mounted`;
    const step = `if [ -d fake ]; then ${read}; else ${plant}; fi`;
    const app = await createApp(server, yaml([step], '  cache: [.git, fake]\n'), { name: 'evil' });
    await app.pushFiles({ 'package-lock.json': '{}\n' }, 'a lock file keys the cache');
    for (const label of ['planted', 'not-mounted']) {
      const sync = await server.api<{ buildIds: string[] }>('POST', '/api/apps/evil/sync');
      const id =
        sync.body.buildIds[0] ??
        (
          await server.api<{ build: { id: string } }>('POST', '/api/builds', {
            app: 'evil',
            ref: 'main',
            rebuild: true,
          })
        ).body.build.id;
      const build = await finishedBuild(server, id, 60_000);
      const log = await logOf(server, build.id);
      expect(log, label).toContain(label);
      expect(log).not.toContain(otherSecret);
    }
  });

  it('a step past its timeout gets a TERM it can handle before the sandbox ends', async () => {
    const step = "trap 'echo got TERM; exit 1' TERM; echo waiting; sleep 30 & wait";
    // A step timeout (its clock starts with the step, so a slow checkout on a loaded machine cannot
    // stop it before the trap is set); a build timeout or a cancel stops a step the same way.
    const app = await createApp(
      server,
      `build:\n  steps:\n    - { name: s0, run: ${JSON.stringify(step)}, timeout: 5s }\n  artifact: { path: . }\n`,
      { name: 'term' },
    );
    const build = await finishedBuild(server, app.buildIds[0]!, 60_000);
    expect(build.status).toBe('failed');
    expect(await logOf(server, build.id)).toContain('waiting\ngot TERM\n');
  });

  it('build.env reaches the steps; build.network: false really has no network, and on it has', async () => {
    const probe = `curl -fsS --max-time 3 http://127.0.0.1:${listenerPort}/ || echo UNREACHABLE`;
    const steps = ['echo "mode=$MODE_VAR"', probe];
    const on = await createApp(server, yaml(steps, '  env: { MODE_VAR: "on air" }\n'), { name: 'on' });
    const off = await createApp(server, yaml(steps, '  env: { MODE_VAR: dark }\n  network: false\n'), {
      name: 'off',
    });
    const [onLog, offLog] = await Promise.all(
      [on.buildIds[0]!, off.buildIds[0]!].map(async (id) => {
        expect((await finishedBuild(server, id, 60_000)).status).toBe('succeeded');
        return logOf(server, id);
      }),
    );
    expect(onLog).toContain('gantry: sandbox bwrap (network on)');
    expect(onLog).toContain('mode=on air');
    expect(onLog).toContain('listener-reached');
    expect(offLog).toContain('gantry: sandbox bwrap (network off)');
    expect(offLog).toContain('mode=dark');
    expect(offLog).toContain('UNREACHABLE');
    expect(offLog).not.toContain('listener-reached');
  });
});

describe.each(engines)('builds that try to leave the worktree on $name', (engine) => {
  // One server for the tests of an engine; each test's apps have names of their own.
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(engine);
  });
  afterAll(async () => server?.close());

  it('an artifact path that is or goes through a symlink out of the worktree fails the build', async () => {
    const cases = {
      root: yaml(['ln -s / dist'], '', 'dist'),
      data: yaml(['ln -s ../.. dist'], '', 'dist'),
      through: yaml(['ln -s /etc out'], '', 'out/ssl'),
    };
    for (const [name, text] of Object.entries(cases)) {
      const app = await createApp(server, text, { name });
      const build = await finishedBuild(server, app.buildIds[0]!, 60_000);
      expect(build.status, name).toBe('failed');
      expect(build.error, name).toMatch(/artifact path "(dist|out\/ssl)" is or goes through a symlink/);
      expect(build.error, name).toContain('leads outside the worktree');
      expect(build.artifactId).toBeFalsy();
    }
  });

  it('a gantry.yaml that is a symlink is not followed', async () => {
    const app = await createApp(server, yaml(['true']), { name: 'linked' });
    await app.work.run(['rm', '-q', 'gantry.yaml']);
    await symlink(join(server.dataDir, 'cli.json'), join(app.work.dir, 'gantry.yaml'));
    const sha = await app.pushFiles({}, 'gantry.yaml is a link');
    const res = await server.api<{ buildIds: string[] }>('POST', '/api/apps/linked/sync');
    const build = await finishedBuild(server, res.body.buildIds[0]!, 60_000);
    expect(build.sha).toBe(sha);
    expect(build.status).toBe('failed');
    expect(build.error).toBe('gantry.yaml is a symlink; Gantry reads it only as a file');
  });

  it('a cache folder under a committed symlink out of the worktree is refused, and nothing is written there', async () => {
    const outside = await makeTempDir('gantry-outside-');
    const text = yaml(['mkdir -p deps/x && echo cached > deps/x/f'], '  cache: [deps/x]\n');
    const app = await createApp(server, text, { name: 'cached' });
    await app.pushFiles({ 'package-lock.json': '{}\n' }, 'a lock file keys the cache');
    const sync = await server.api<{ buildIds: string[] }>('POST', '/api/apps/cached/sync');
    expect((await finishedBuild(server, sync.body.buildIds[0]!, 60_000)).status).toBe('succeeded');

    await symlink(outside, join(app.work.dir, 'deps'));
    await app.pushFiles({}, 'deps is a link out');
    const again = await server.api<{ buildIds: string[] }>('POST', '/api/apps/cached/sync');
    const escaped = await finishedBuild(server, again.body.buildIds[0]!, 60_000);
    expect(escaped.status).toBe('failed');
    expect(escaped.error).toContain('cache folder "deps/x" is or goes through a symlink');
    expect(await readdir(outside)).toEqual([]);
  });

  it("the steps' HOME is not packed when the artifact is the whole worktree", async () => {
    const app = await createApp(server, yaml(['echo x > "$HOME/dotfile"; echo y > made.txt']), {
      name: 'home',
    });
    const build = await finishedBuild(server, app.buildIds[0]!, 60_000);
    expect(build.status).toBe('succeeded');
    const res = await fetch(`${server.url}/api/artifacts/${build.artifactId}/download`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    const tarball = join(await makeTempDir(), 'a.tar.gz');
    await writeFile(tarball, Buffer.from(await res.arrayBuffer()));
    const names = execFileSync('tar', ['-tzf', tarball]).toString().split('\n');
    expect(names).toContain('made.txt');
    expect(names.some((n) => n.includes('.gantry-home') || n.includes('dotfile'))).toBe(false);
  });
});

describe('builds with sandbox off', () => {
  let server: TestServer;
  afterEach(async () => server?.close());

  it('still scrub the environment, and say so on the first line of the log and in /api/server', async () => {
    server = await startTestServer(undefined, { buildsSandbox: 'off' });
    const { body: info } = await server.api<{ sandbox: { mode: string; active: boolean } }>(
      'GET',
      '/api/server',
    );
    expect(info.sandbox).toMatchObject({ mode: 'off', active: false });
    const app = await createApp(server, yaml(['env', 'echo "token=$GANTRY_TOKEN home=$HOME"']));
    const build = await finishedBuild(server, app.buildIds[0]!, 60_000);
    const log = await logOf(server, build.id);
    expect(log.split('\n')[1]).toBe(
      'gantry: WARNING no sandbox: builds.sandbox is off; steps can read what the server can',
    );
    expect(log).toMatch(/token= home=.*\.gantry-home/);
    expect(log).not.toContain(SENTINEL);
    expect(log).toContain(`PATH=${process.env.PATH}`);
  });
});

describe.skipIf(!HAS_BWRAP)('GET /api/server with the sandbox', () => {
  it('reports bwrap active', async () => {
    const server = await startTestServer(undefined, { buildsSandbox: 'auto' });
    try {
      const { body } = await server.api<Build & { sandbox: unknown; version: string }>('GET', '/api/server');
      expect(body.sandbox).toMatchObject({ mode: 'auto', active: true });
      expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    } finally {
      await server.close();
    }
  });
});
