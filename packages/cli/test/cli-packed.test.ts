import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baseImages,
  describeContainers,
  dockerSocket,
} from '../../server/test/support/container-fixtures.js';
import { deployYaml, envPorts, SERVER_JS } from '../../server/test/support/deploy-fixture.js';
import { cleanupAll, createBareRepo, createWorkClone } from '../../server/test/support/git-fixtures.js';
import { waitFor } from '../../server/test/support/test-server.js';
import {
  type Installed,
  installPacked,
  localPrebuilds,
  type PackResult,
  packGantry,
  productionTree,
  REPO,
} from './support/packed-install.js';
import { type CliProcess, type CliSandbox, freePort, makeCliSandbox } from './support/run-cli.js';

// `npm run pack`, installed into an empty folder as a user installs it, and used there: the CLI, the
// server with its console, a login, and a deployment whose proxy is the compiled one.

const TOOLING = ['vitest', 'vite', 'esbuild', 'tsx', 'typescript', '@biomejs/biome'];
const LISTENING = /Gantry is listening on (http:\/\/127\.0\.0\.1:\d+) /;
const TOKEN = /admin token \(shown once, stored hashed\):\n\n {2}(\S+)\n/;

let root: string;
let packed: PackResult;
let installed: Installed;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gantry-packed-'));
  packed = await packGantry(join(root, 'pack'));
  installed = await installPacked(
    packed.tarball,
    join(root, 'install'),
    await localPrebuilds(join(root, 'prebuilds')),
  );
}, 600_000);

afterAll(async () => {
  if (!root) return;
  // Whatever still runs from this test's folders (a proxy or a release after a failure).
  for (const pid of await processesUnder(root)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await cleanupAll();
  await rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

/** Processes whose command line names `dir` or whose working directory is in it. */
async function processesUnder(dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    if (cmd.includes(dir) || cwd.startsWith(dir)) found.push(pid);
  }
  return found;
}

async function commandLines(): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmd) out.push(cmd.split('\0').join(' ').trim());
  }
  return out;
}

describe('the packed package', () => {
  it('holds compiled code and the runtime packages the bundles import, pinned; none of the tooling', async () => {
    const deps = packed.dependencies;
    for (const name of ['fastify', 'better-sqlite3', 'pg', 'zod', 'pino', 'dockerode'])
      expect(deps[name], name).toMatch(/^\d+\.\d+\.\d+$/);
    const lock = JSON.parse(await readFile(join(REPO, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string }>;
    };
    expect(deps.fastify).toBe(lock.packages['node_modules/fastify']!.version);
    // commander is inside the CLI's bundle (scripts/build-cli.mjs), so it is no dependency.
    for (const name of [...TOOLING, '@gantry/server', '@gantry/contracts', 'react', 'commander'])
      expect(deps).not.toHaveProperty(name);

    const pkg = join(installed.dir, 'node_modules/gantry');
    const manifest = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.bin).toEqual({ gantry: 'bin/gantry.js' });
    for (const file of [
      'dist/gantry.mjs',
      'lib/server/index.mjs',
      'lib/server/proxy-main.mjs',
      'lib/web/index.html',
    ])
      expect((await stat(join(pkg, file))).isFile(), file).toBe(true);
    const files = (await readdir(pkg, { recursive: true })).map(String);
    expect(files.filter((f) => /\.tsx?$|\.map$/.test(f) || f.startsWith('src'))).toEqual([]);

    const tree = await productionTree(installed.dir);
    expect(tree.has('gantry')).toBe(true);
    expect(tree.has('fastify')).toBe(true);
    expect(TOOLING.filter((name) => tree.has(name))).toEqual([]);
    const modules = await readdir(join(installed.dir, 'node_modules'));
    expect(TOOLING.filter((name) => modules.includes(name))).toEqual([]);
  });
});

describe('the installed gantry command', () => {
  let admin: CliSandbox; // the user who runs the server
  let other: CliSandbox; // another user on another machine, as far as config goes
  let server: CliProcess;
  let url: string;
  let token: string;

  beforeAll(async () => {
    admin = await makeCliSandbox({}, { bin: installed.bin });
    other = await makeCliSandbox({}, { bin: installed.bin });
    server = admin.start(['server', '--data-dir', join(root, 'data'), '--port', String(await freePort())], {
      cwd: installed.dir,
      env: { GANTRY_LOG_LEVEL: 'warn', GANTRY_POLL_INTERVAL_MS: '0' },
      timeoutMs: 600_000,
    });
    [, url] = (await server.waitForStdout(LISTENING, 90_000)) as [string, string];
    [, token] = (await server.waitForStdout(TOKEN)) as [string, string];
    await server.waitForStdout(/finds this server from any folder/);
  }, 180_000);

  afterAll(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.done;
    }
    await admin?.cleanup();
    await other?.cleanup();
  });

  it('answers --version and --help through the bin npm made', async () => {
    const [version, help] = await Promise.all([admin.run(['--version']), admin.run(['--help'])]);
    expect(version).toMatchObject({ code: 0, stdout: `${packed.version}\n` });
    expect(help.code).toBe(0);
    for (const command of ['server', 'login', 'deploy', 'rollback', 'status'])
      expect(help.stdout).toContain(command);
  });

  it('serves health, the console and its version on SQLite', async () => {
    expect(server.stdout).toContain(`store: SQLite in ${join(root, 'data')}`);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    const page = await (await fetch(`${url}/`)).text();
    expect(page).toContain('<div id="root"></div>');
    const info = (await (
      await fetch(`${url}/api/server`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as {
      version: string;
    };
    expect(info.version).toBe(packed.version);
  });

  it('is found from any folder by its user, and by another user after gantry login', async () => {
    // The server's user, in a folder with no .gantry: the user config written by `gantry server`.
    const saved = JSON.parse(await readFile(join(admin.xdg, 'gantry/config.json'), 'utf8'));
    expect(saved).toEqual({ dataDir: join(root, 'data') });
    expect((await stat(join(admin.xdg, 'gantry/config.json'))).mode & 0o777).toBe(0o600);
    expect(await admin.json(['app', 'list', '--json'])).toEqual([]);

    const before = await other.run(['status']);
    expect(before.code).not.toBe(0);
    expect(before.stderr).toContain('no Gantry server configured');
    const login = await other.run(['login', url, token]);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(join(other.xdg, 'gantry/config.json'));
    const status = await other.run(['status']);
    expect(status.code, status.stderr).toBe(0);
  });

  it("deploys to a process-driver environment whose proxy is the package's compiled proxy-main.mjs", async () => {
    const bare = await createBareRepo();
    const work = await createWorkClone(bare.url);
    const ports = await envPorts();
    for (const [path, content] of Object.entries({
      'gantry.yaml': deployYaml(ports),
      'server.js': SERVER_JS,
      VERSION: 'v1',
    }))
      await work.write(path, content);
    await work.commit('v1');
    await work.push();
    await admin.json(['app', 'add', 'shop', bare.dir, '--poll', '0', '--json']);

    const qa = await waitFor(
      async () => {
        const res = await fetch(`${url}/api/deployments?app=shop&env=qa`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const [latest] = (await res.json()) as { status: string; error?: string }[];
        return latest && ['succeeded', 'failed'].includes(latest.status) ? latest : undefined;
      },
      'the first deployment to qa',
      150_000,
    );
    expect(qa.status, qa.error).toBe('succeeded');
    expect(await (await fetch(`http://127.0.0.1:${ports.qa}/`)).text()).toBe('v1 hello-qa');

    const proxyMain = join(installed.dir, 'node_modules/gantry/lib/server/proxy-main.mjs');
    const lines = await commandLines();
    expect(lines.filter((l) => l.includes(proxyMain) && l.includes(String(ports.qa)))).toHaveLength(1);
    const ours = lines.filter((l) => l.includes(root));
    expect(ours.filter((l) => /\btsx\b|esbuild/.test(l))).toEqual([]);

    const removed = await admin.run(['app', 'remove', 'shop', '--stop-environments', '--purge', '--yes']);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await commandLines()).filter((l) => l.includes(proxyMain))).toEqual([]);
  }, 240_000);
});

/** One call of the Docker Engine API (podman's service on DOCKER_HOST); `/libpod/…` paths go to podman's own API. */
function engine(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolvePromise, reject) => {
    const req = request(
      {
        socketPath: dockerSocket,
        path: path.startsWith('/libpod/') ? `/v4.0.0${path}` : `/v1.41${path}`,
        method,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describeContainers('the container image (packaging/Containerfile)', () => {
  const tag = `localhost/gantry-packed-test:${randomBytes(4).toString('hex')}`;
  let container: string | undefined;

  afterAll(async () => {
    if (container) await engine('DELETE', `/containers/${container}?force=true&v=true`);
    await engine('DELETE', `/images/${encodeURIComponent(tag)}?force=true`);
  });

  it('builds from the installed package, runs as a non-root user with its data in a volume, and is healthy', async () => {
    // The context as docs/install.md makes it: the install, plus the native modules' libraries that a
    // minimal base lacks; built with the engine's own CLI (podman keeps HEALTHCHECK with --format docker).
    await promisify(execFile)(process.execPath, [join(REPO, 'scripts/image-context.mjs'), installed.dir]);
    await promisify(execFile)(
      'podman',
      [
        'build',
        '--format',
        'docker',
        '--build-arg',
        `BASE=${baseImages.node}`,
        '-f',
        join(REPO, 'packaging/Containerfile'),
        '-t',
        tag,
        installed.dir,
      ],
      { maxBuffer: 64 * 1024 ** 2, timeout: 600_000 },
    );
    const port = await freePort();
    const created = await engine('POST', '/containers/create', {
      Image: tag,
      Env: [`GANTRY_PORT=${port}`, 'GANTRY_LOG_LEVEL=warn'],
      Labels: { 'gantry.test': 'packed' },
      HostConfig: { NetworkMode: 'host' },
    });
    expect(created.status, created.text).toBe(201);
    container = (JSON.parse(created.text) as { Id: string }).Id;
    const started = await engine('POST', `/containers/${container}/start`);
    expect(started.status, started.text).toBe(204);

    const health = await waitFor(
      () =>
        fetch(`http://127.0.0.1:${port}/healthz`).then(
          async (r) => (r.ok ? ((await r.json()) as { ok: boolean }) : undefined),
          () => undefined,
        ),
      "the container's /healthz",
      90_000,
    );
    expect(health).toEqual({ ok: true });
    // The image's HEALTHCHECK, run by the engine (podman runs it on demand without systemd timers).
    const check = await engine('GET', `/libpod/containers/${container}/healthcheck`);
    expect(check.status, check.text).toBe(200);
    expect((JSON.parse(check.text) as { Status: string }).Status).toBe('healthy');

    const info = JSON.parse((await engine('GET', `/containers/${container}/json`)).text) as {
      Config: { User: string; Healthcheck?: { Test: string[] } };
      Mounts: { Type: string; Destination: string }[];
      State: { Pid: number; Health?: { Status: string } };
    };
    expect(info.Config.User).toBe('10001:10001');
    expect(info.Config.Healthcheck?.Test.join(' ')).toContain('/healthz');
    expect(info.Mounts).toContainEqual(
      expect.objectContaining({ Type: 'volume', Destination: '/var/lib/gantry' }),
    );
    // The server itself, seen from the host: not root.
    const status = await readFile(`/proc/${info.State.Pid}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\t10001\t/m);
  }, 600_000);
});
