import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeployPhase, DriverContext, DriverEvent, EnvironmentSpec, Release } from '@gantry/driver-api';
import { readEnvState } from '../../../src/drivers/process/env-state.js';
import { findReleaseGroups } from '../../../src/drivers/process/find-release-processes.js';
import { freePort } from '../../../src/drivers/process/free-port.js';
import { signalGroup } from '../../../src/drivers/process/process-group.js';
import { readPidFile } from '../../../src/drivers/process/proxy-control.js';
import { packDirectory } from '../../../src/features/artifacts/artifact-pack.js';

export { freePort };

export interface AppBehaviour {
  /** false: /healthz always answers 500. */
  healthy?: boolean;
  healthyAfterMs?: number;
  /** Exit with code 3 this long after the first 2xx health answer. */
  crashAfterMs?: number;
  /** Crash only on the first start in a release folder. */
  crashOnce?: boolean;
  /** A shell command instead of the Node server. */
  command?: string;
}

const roots: string[] = [];

export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  roots.push(dir);
  return dir;
}

/** A tiny HTTP app answering /healthz, /slow?ms=, /fail (500) and / with its version, packed as a real artifact. */
export async function makeRelease(
  env: EnvironmentSpec,
  version: string,
  app: AppBehaviour = {},
): Promise<Release> {
  const root = await tempDir('gantry-app-');
  const src = join(root, 'src');
  await mkdir(src);
  await writeFile(join(src, 'server.mjs'), appSource(version, app));
  const path = join(root, 'artifact.tar.gz');
  const { digest } = await packDirectory(src, path);
  const sha = randomBytes(20).toString('hex');
  const release: Release = { env, sha, deploymentId: `dep_${version}`, artifact: { path, digest } };
  if (app.command) release.env = { ...env, run: { ...env.run!, command: app.command } };
  return release;
}

function appSource(version: string, app: AppBehaviour): string {
  return `import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
const VERSION = ${JSON.stringify(version)};
const app = ${JSON.stringify(app)};
const started = Date.now();
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://app');
  if (url.pathname === '/healthz') {
    const ok = app.healthy !== false && Date.now() - started >= (app.healthyAfterMs ?? 0);
    if (ok) crashLater();
    return res.writeHead(ok ? 200 : 500).end(ok ? 'ok' : 'not yet');
  }
  if (url.pathname === '/fail') return res.writeHead(500).end(VERSION + ' failed');
  if (url.pathname === '/slow') {
    return setTimeout(() => res.end(VERSION + ' slow'), Number(url.searchParams.get('ms') ?? 500));
  }
  res.end(VERSION + ' pid=' + process.pid + ' env=' + process.env.GANTRY_ENV + ' level=' + (process.env.LOG_LEVEL ?? ''));
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(VERSION + ' listening on ' + process.env.PORT));
let crashing = false;
function crashLater() {
  if (crashing || app.crashAfterMs === undefined || (app.crashOnce && existsSync('.crashed'))) return;
  crashing = true;
  setTimeout(() => {
    writeFileSync('.crashed', '');
    console.error(VERSION + ' crashing on purpose');
    process.exit(3);
  }, app.crashAfterMs);
}
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;
}

export interface TestEnv {
  workdir: string;
  env: EnvironmentSpec;
  ctx: DriverContext;
  phases: DeployPhase[];
  events: DriverEvent[];
  warnings: string[];
  abort: AbortController;
}

const workdirs: string[] = [];

/** Makes `killEverything` stop what runs in a workdir this module did not create. */
export function trackWorkdir(workdir: string): void {
  workdirs.push(workdir);
}

export async function testEnv(overrides: Partial<EnvironmentSpec> = {}): Promise<TestEnv> {
  const workdir = join(await tempDir('gantry-env-'), 'shop', 'qa');
  await mkdir(workdir, { recursive: true });
  workdirs.push(workdir);
  const env: EnvironmentSpec = {
    app: 'shop',
    name: 'qa',
    port: await freePort(),
    config: { LOG_LEVEL: 'debug' },
    standby: 1,
    run: {
      command: `"${process.execPath}" server.mjs`,
      portEnv: 'PORT',
      health: { path: '/healthz', timeoutMs: 10_000 },
    },
    ...overrides,
  };
  return withContext(workdir, env);
}

/** A fresh context on the same workdir, as a restarted Gantry would pass. */
export function withContext(workdir: string, env: EnvironmentSpec): TestEnv {
  const t: TestEnv = {
    workdir,
    env,
    phases: [],
    events: [],
    warnings: [],
    abort: new AbortController(),
    ctx: null!,
  };
  t.ctx = {
    workdir,
    signal: t.abort.signal,
    logger: { info: () => {}, warn: (msg) => t.warnings.push(msg), error: (msg) => t.warnings.push(msg) },
    phase: (name) => t.phases.push(name),
    report: (event) => t.events.push(event),
  };
  return t;
}

export interface Reply {
  status: number;
  body: string;
}

export function get(port: number, path = '/', agent: Agent | false = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

export async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  what: string,
  ms = 20_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function releasePid(workdir: string, sha: string): Promise<number | undefined> {
  return (await readEnvState(workdir)).processes[sha]?.pid;
}

/** Kills every process group any test started in its workdirs, then removes the temp folders. */
export async function killEverything(): Promise<void> {
  for (const workdir of workdirs) {
    const state = await readEnvState(workdir).catch(() => null);
    for (const proc of Object.values(state?.processes ?? {})) signalGroup(proc.pid, 'SIGKILL');
    for (const group of findReleaseGroups(workdir)) signalGroup(group.pgid, 'SIGKILL');
    const proxyPid = await readPidFile(join(workdir, 'proxy.pid'));
    if (proxyPid) signalGroup(proxyPid, 'SIGKILL');
    for (const pid of pidsMentioning(workdir)) signalGroup(pid, 'SIGKILL');
  }
  await Promise.all(roots.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export async function readProxyPid(workdir: string): Promise<number | null> {
  return readPidFile(join(workdir, 'proxy.pid'));
}

/** Processes whose command line names the workdir: proxies whose pid file is gone. */
function pidsMentioning(workdir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(workdir)) pids.push(Number(name));
    } catch {
      // gone, or not a process folder
    }
  }
  return pids.filter((pid) => Number.isInteger(pid) && pid !== process.pid);
}
