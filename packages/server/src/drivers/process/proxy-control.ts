import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EnvironmentSpec, TrafficQuery, TrafficReport } from '@gantry/driver-api';
import { Conflict } from '../../errors.js';
import { portTaken } from './free-port.js';
import { sleep } from './health-check.js';
import { isAlive, stopProcessGroup } from './process-group.js';
import { PORT_IN_USE_EXIT, proxyFiles } from './proxy-files.js';
import { logTail } from './release-process.js';
import type { ProxyState, Upstream } from './reverse-proxy.js';

const START_TIMEOUT_MS = 20_000;

/**
 * `node` arguments that start the proxy. In the server's bundle (scripts/build-cli.mjs): the compiled
 * proxy-main.mjs beside it. From the sources: that same compiled proxy while it is newer than every
 * source it was built from (listed in proxy-main.inputs.json beside it), else proxy-main.ts through tsx.
 */
function proxyMain(): string[] {
  if (!import.meta.url.endsWith('.ts')) return [fileURLToPath(new URL('./proxy-main.mjs', import.meta.url))];
  const compiled = new URL('../../../dist/bundle/proxy-main.mjs', import.meta.url);
  if (process.env.GANTRY_CLI_FROM_SOURCES !== '1' && isFresh(compiled)) return [fileURLToPath(compiled)];
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return ['--import', tsx, fileURLToPath(new URL('./proxy-main.ts', import.meta.url))];
}

function isFresh(compiled: URL): boolean {
  try {
    const built = statSync(new URL('../built.json', compiled)).mtimeMs;
    const list = readFileSync(new URL('./proxy-main.inputs.json', compiled), 'utf8');
    const { inputs } = JSON.parse(list) as { inputs: string[] };
    return inputs.every((input) => statSync(new URL(input, compiled)).mtimeMs <= built);
  } catch {
    return false; // no build, or a source gone
  }
}

/** The proxy's state over its control socket, or null when no proxy answers. */
export async function readProxyState(workdir: string): Promise<ProxyState | null> {
  return (await control<ProxyState>(workdir, 'GET', '/state').catch(() => null)) ?? null;
}

/**
 * Switches the proxy to `upstream`. With a fencing token (DriverContext.fence) the proxy refuses the
 * switch when it has seen a higher one: another server took the environment over meanwhile.
 */
export async function setProxyUpstream(
  workdir: string,
  upstream: Upstream,
  fence?: number,
): Promise<ProxyState> {
  const state = await control<ProxyState>(workdir, 'PUT', '/upstream', {
    ...upstream,
    ...(fence === undefined ? {} : { fence }),
  }).catch((e: unknown) => {
    if (e instanceof ProxyAnswer && e.status === 409)
      throw new Error(
        `another server took the environment over: its proxy refused the switch to ${upstream.sha.slice(0, 12)} (${e.detail})`,
      );
    throw e;
  });
  if (!state) throw new Error(`the proxy in ${workdir} refused the switch to ${upstream.sha}`);
  return state;
}

/**
 * The traffic the environment's proxy answered since `query.sinceMs` (both drivers report it this
 * way). A proxy started by a Gantry from before traffic reporting keeps serving across the upgrade
 * but has no such route: that is an error, never a report of no traffic.
 */
export async function readProxyTraffic(
  workdir: string,
  env: EnvironmentSpec,
  query: TrafficQuery,
): Promise<TrafficReport> {
  if (!Number.isFinite(query.sinceMs))
    throw new Error(`sinceMs must be epoch milliseconds, not ${query.sinceMs}`);
  const since = Math.max(0, Math.floor(query.sinceMs));
  try {
    const report = await control<TrafficReport>(workdir, 'GET', `/traffic?since=${since}`);
    if (!report) throw new Error(`the proxy of ${env.name} sent no traffic report`);
    return report;
  } catch (err) {
    if (err instanceof ProxyAnswer && err.status === 404) {
      const pid = (await readProxyState(workdir))?.pid ?? (await readPidFile(proxyFiles(workdir).pid));
      throw new Error(
        `the proxy of ${env.name} (pid ${pid}) predates traffic reporting: an older Gantry started it and ` +
          'it keeps serving across upgrades. To watch its traffic, stop that process and then restart ' +
          `Gantry or deploy to ${env.name}: either starts a current proxy on port ${env.port} that serves ` +
          'the same release (the port refuses connections in between)',
      );
    }
    if (!(err instanceof ProxyAnswer) && !(await readProxyState(workdir))) {
      throw new Error(`the proxy of ${env.name} on port ${env.port} is not running: no traffic to report`);
    }
    throw err;
  }
}

export function portTakenError(env: EnvironmentSpec): Conflict {
  return new Conflict(
    `port ${env.port} for environment ${env.name} is already in use by another process; choose another port in gantry.yaml`,
  );
}

export interface OpenedProxy {
  adopted: boolean;
  /** Resolves once the proxy answers; a new proxy boots while the release starts. */
  ready: Promise<ProxyState>;
}

/**
 * Makes sure the environment's proxy runs on `env.port`: adopts one that answers on the control
 * socket and matches its pid file, or starts a new one (which resumes the persisted upstream).
 * Rejects at once when another process holds the port.
 */
export async function openProxy(
  workdir: string,
  env: EnvironmentSpec,
  nodePath: string,
  /** The address the proxy listens on (a deploy agent's `--listen`); default 127.0.0.1. */
  host = '127.0.0.1',
): Promise<OpenedProxy> {
  const running = await readProxyState(workdir);
  const pidFile = await readPidFile(proxyFiles(workdir).pid);
  if (running && running.pid === pidFile && running.port === env.port) {
    return { adopted: true, ready: Promise.resolve(running) };
  }
  await stopProxy(workdir);
  if (await portTaken(env.port, 1_000, host)) throw portTakenError(env);
  const ready = spawnProxy(workdir, env, nodePath, host);
  ready.catch(() => undefined);
  return { adopted: false, ready };
}

async function spawnProxy(
  workdir: string,
  env: EnvironmentSpec,
  nodePath: string,
  host: string,
): Promise<ProxyState> {
  const files = proxyFiles(workdir);
  const log = openSync(files.log, 'a');
  const child = spawn(nodePath, [...proxyMain(), String(env.port), workdir, files.socket, host], {
    cwd: workdir,
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.unref();
  let exitCode: number | null | undefined;
  child.on('exit', (code) => {
    exitCode = code;
  });
  child.on('error', () => {
    exitCode = -1;
  });
  const until = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exitCode === PORT_IN_USE_EXIT) throw portTakenError(env);
    if (exitCode !== undefined) {
      throw new Error(`the proxy for ${env.name} exited at start: ${await logTail(files.log, 0, 5)}`);
    }
    const state = await readProxyState(workdir);
    if (state && state.pid === child.pid) return state;
    if (Date.now() > until) {
      if (child.pid) await stopProcessGroup(child.pid);
      throw new Error(`the proxy for ${env.name} did not start within ${START_TIMEOUT_MS / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Stops the environment's proxy, whether it answers or only its pid file is left. */
export async function stopProxy(workdir: string, opts: { forget?: boolean } = {}): Promise<void> {
  const files = proxyFiles(workdir);
  const running = await readProxyState(workdir);
  const pid = running?.pid ?? (await readPidFile(files.pid));
  if (pid && isAlive(pid) && (running || (await looksLikeProxy(pid)))) await stopProcessGroup(pid);
  await rm(files.pid, { force: true });
  await rm(files.socket, { force: true });
  if (opts.forget) await rm(files.upstream, { force: true });
}

export async function readPidFile(file: string): Promise<number | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  const pid = Number(text?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** A pid from a stale file may belong to an unrelated process by now; never signal that one. */
async function looksLikeProxy(pid: number): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
  return cmdline?.includes('proxy-main') ?? false;
}

/** The proxy answered, but not with 200. */
class ProxyAnswer extends Error {
  constructor(
    method: string,
    path: string,
    readonly status: number,
    text: string,
  ) {
    super(`proxy ${method} ${path}: ${status} ${text}`);
    this.detail = text.startsWith('{') ? ((JSON.parse(text) as { error?: string }).error ?? text) : text;
  }
  readonly detail: string;
}

function control<T>(workdir: string, method: string, path: string, body?: unknown): Promise<T | null> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({
      socketPath: proxyFiles(workdir).socket,
      method,
      path,
      agent: false,
      timeout: 2_000,
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new ProxyAnswer(method, path, res.statusCode ?? 0, text));
        resolve(JSON.parse(text) as T);
      });
    });
    req.on('timeout', () => req.destroy(new Error('the proxy did not answer within 2 s')));
    req.on('error', reject);
    if (payload) req.setHeader('content-type', 'application/json');
    req.end(payload);
  });
}

/** Waits until the proxy forwards no request to that upstream any more (both drivers drain this way). */
export async function drained(
  workdir: string,
  port: number,
  sha: string,
  timeoutMs: number,
): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const proxy = await readProxyState(workdir);
    const route = proxy?.inflight.find((r) => r.port === port && r.sha === sha);
    if (!proxy || !route || route.count === 0) return true;
    if (Date.now() >= until) return false;
    await sleep(50);
  }
}
