import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriverContext, DriverEvent, EnvironmentSpec, ImageArtifact, Release } from '@gantry/driver-api';
import type Docker from 'dockerode';
import { pack } from 'tar-stream';
import { connectEngine, followProgress } from '../../../src/containers/engine.js';
import { RegistryClient } from '../../../src/containers/registry.js';
import { LABEL } from '../../../src/drivers/container/container-labels.js';
import { freePort } from '../../../src/drivers/process/free-port.js';
import { signalGroup } from '../../../src/drivers/process/process-group.js';
import { readPidFile } from '../../../src/drivers/process/proxy-control.js';
import { baseImages, registry } from '../../support/container-fixtures.js';

export { freePort };

export interface AppBehaviour {
  /** false: /healthz always answers 500. */
  healthy?: boolean;
  /** Print a line and exit with code 3 at once, before listening. */
  exitAtOnce?: boolean;
}

/** What an image of the sample app does is fixed at build time; crashes come from the env's config. */
const REPOSITORY = 'gantry-test/container-driver';

let enginePromise: Promise<Docker> | null = null;
export function docker(): Promise<Docker> {
  enginePromise ??= connectEngine().then((e) => e.docker);
  return enginePromise;
}

/**
 * Builds the sample app (a server.js on the node base image) through the engine's API, pushes it
 * to the test registry and returns an image release pinned by the registry's manifest digest. The
 * app answers its version on / and on /healthz (500 when unhealthy), 500 on /fail, its version
 * after `ms` on /slow?ms=; `CRASH_AFTER_MS` in its environment makes it exit with code 3 that long
 * after it starts, and it prints a line once it listens.
 */
export function buildImage(version: string, app: AppBehaviour = {}): Promise<ImageArtifact> {
  // One build at a time per test file: podman's build cache lookups race with images that change.
  const next = builds.then(() => buildAndPush(version, app));
  builds = next.catch(() => undefined);
  return next;
}

let builds: Promise<unknown> = Promise.resolve();

async function buildAndPush(version: string, app: AppBehaviour): Promise<ImageArtifact> {
  const d = await docker();
  const nonce = randomBytes(4).toString('hex');
  const tag = `${registry}/${REPOSITORY}:${version}-${nonce}`;
  const context = pack();
  // The nonce makes each build's image its own, so that test files building at once never share one.
  context.entry({ name: 'server.js' }, `// build ${nonce}\n${appSource(version, app)}`);
  context.entry(
    { name: 'Dockerfile' },
    [
      `FROM ${baseImages.node}`,
      'COPY server.js /app/server.js',
      `LABEL org.gantry.test=container-driver`,
      'CMD ["node", "/app/server.js"]',
      '',
    ].join('\n'),
  );
  context.finalize();
  const build = await d.buildImage(context as unknown as NodeJS.ReadableStream, {
    t: tag,
    pull: false,
    nocache: true,
  });
  await followProgress(d, build, () => undefined);
  const push = await d.getImage(tag).push({ tlsVerify: false } as Record<string, unknown>);
  await followProgress(d, push, () => undefined);
  const client = new RegistryClient({ host: registry, insecure: true });
  const digest = await client.manifestDigest(REPOSITORY, tag.slice(tag.lastIndexOf(':') + 1));
  if (!digest) throw new Error(`the registry does not have ${tag} after the push`);
  // The local image stays: removing images while other test files build makes podman's builds fail
  // ("layer not known"). Deployments still pull by digest from the registry.
  return {
    kind: 'image',
    reference: `${registry}/${REPOSITORY}@${digest}`,
    digest,
    registry: { insecure: true },
  };
}

export function releaseOf(env: EnvironmentSpec, version: string, image: ImageArtifact): Release {
  return {
    env,
    sha: randomBytes(20).toString('hex'),
    deploymentId: `dep_${version}_${randomBytes(3).toString('hex')}`,
    artifact: image,
  };
}

function appSource(version: string, app: AppBehaviour): string {
  return `'use strict';
const http = require('node:http');
const VERSION = ${JSON.stringify(version)};
const app = ${JSON.stringify(app)};
if (app.exitAtOnce) {
  console.error(VERSION + ' cannot start: missing DATABASE_URL');
  process.exit(3);
}
const server = http.createServer((req, res) => {
  if (req.url === '/healthz') return res.writeHead(app.healthy === false ? 500 : 200).end(app.healthy === false ? 'unhealthy' : 'ok');
  if (req.url.startsWith('/config/')) return res.end(process.env[req.url.slice(8)] ?? '');
  if (req.url === '/fail') return res.writeHead(500).end(VERSION + ' failed');
  if (req.url.startsWith('/slow')) {
    return setTimeout(() => res.end(VERSION + ' slow'), Number(new URL(req.url, 'http://app').searchParams.get('ms') ?? 300));
  }
  res.end(VERSION);
});
server.listen(Number(process.env.PORT), process.env.LISTEN_HOST || '127.0.0.1', () => console.log(VERSION + ' listening on ' + process.env.PORT));
const crash = Number(process.env.CRASH_AFTER_MS ?? 0);
if (crash > 0) setTimeout(() => { console.error(VERSION + ' crashing on purpose'); process.exit(3); }, crash);
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections(); });
`;
}

const roots: string[] = [];

export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  roots.push(dir);
  return dir;
}

export interface TestEnv {
  workdir: string;
  env: EnvironmentSpec;
  ctx: DriverContext;
  phases: string[];
  events: DriverEvent[];
  lines: string[];
  abort: AbortController;
}

const workdirs: string[] = [];

/** Makes `cleanupContainers` stop what runs in a workdir this module did not create. */
export function trackWorkdir(workdir: string): void {
  workdirs.push(workdir);
}

/** A fresh environment with a unique app name, so that tests never see each other's containers. */
export async function testEnv(overrides: Partial<EnvironmentSpec> = {}): Promise<TestEnv> {
  const app = `t${randomBytes(4).toString('hex')}`;
  const workdir = join(await tempDir('gantry-cenv-'), app, 'qa');
  await mkdir(workdir, { recursive: true });
  workdirs.push(workdir);
  const env: EnvironmentSpec = {
    app,
    name: 'qa',
    port: await freePort(),
    config: { LOG_LEVEL: 'debug' },
    standby: 1,
    run: { command: '', portEnv: 'PORT', health: { path: '/healthz', timeoutMs: 15_000 } },
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
    lines: [],
    abort: new AbortController(),
    ctx: null!,
  };
  const log = (msg: string) => void t.lines.push(msg);
  t.ctx = {
    workdir,
    signal: t.abort.signal,
    logger: { info: log, warn: log, error: log },
    phase: (name) => void t.phases.push(name),
    report: (event) => void t.events.push(event),
  };
  return t;
}

/** GET http://127.0.0.1:<port><path>: the body on 200, null otherwise. */
export async function served(port: number, path = '/'): Promise<string | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3_000) });
    return res.ok ? (await res.text()).trim() : null;
  } catch {
    return null;
  }
}

export async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  what: string,
  ms = 30_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The environment's containers, as the engine lists them. */
export async function envContainers(env: EnvironmentSpec): Promise<Docker.ContainerInfo[]> {
  const d = await docker();
  return d.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABEL.app}=${env.app}`] }) });
}

/** Removes every container of the apps this module made, the proxies, and the temp folders. */
export async function cleanupContainers(): Promise<void> {
  const d = await docker().catch(() => null);
  for (const workdir of workdirs) {
    if (d) {
      const list = await d
        .listContainers({ all: true, filters: JSON.stringify({ label: [`${LABEL.workdir}=${workdir}`] }) })
        .catch(() => []);
      for (const c of list)
        await d
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined);
    }
    const proxyPid = await readPidFile(join(workdir, 'proxy.pid'));
    if (proxyPid) signalGroup(proxyPid, 'SIGKILL');
  }
  await Promise.all(roots.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}
