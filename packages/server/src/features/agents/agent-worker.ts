import { createReadStream } from 'node:fs';
import { mkdir, realpath, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Build, GantryYaml } from '@gantry/contracts';
import { createSandbox, type Sandbox } from '../../sandbox/host-sandbox.js';
import type { SandboxMode } from '../../sandbox/sandbox.js';
import { packDirectory } from '../artifacts/artifact-pack.js';
import { unpackStream } from '../artifacts/artifact-unpack.js';
import { BuildCache } from '../builds/build-cache.js';
import { insideWorktree, STEP_HOME, stepSandbox } from '../builds/build-sandbox.js';
import { LogTail } from '../builds/log-tail.js';
import { runStep } from '../builds/run-step.js';
import { SecretMasker } from '../secrets/secret-masker.js';
import { buildImageHere } from './agent-image.js';
import type { AgentJob } from './agent-service.js';
import { runHostJobs } from './host-runner.js';

export interface AgentOptions {
  server: string;
  token: string;
  /** The labels to claim with (a subset of the token's); empty: the token's own. */
  labels: string[];
  workDir: string;
  sandbox?: SandboxMode;
  /** The address environments' proxies listen on here (deploy jobs; default 127.0.0.1). */
  listen?: string;
  /** How others reach this machine, in the URLs it reports (default: `listen`, or the hostname when that is 0.0.0.0). */
  address?: string;
  /** How long to wait between claims when there is no work. */
  pollMs?: number;
  heartbeatMs?: number;
  /** The longest wait between attempts while the server is unreachable. */
  maxBackoffMs?: number;
  say?: (line: string) => void;
  signal?: AbortSignal;
}

/** The server refused the token (revoked, expired or unknown): the agent stops. */
export class AgentRefused extends Error {
  override name = 'AgentRefused';
}
class LeaseLost extends Error {}

/**
 * `gantry agent`: claims builds whose runs_on labels it has, runs their steps here (in bubblewrap
 * when it works, like the servers' runners), streams the logs back, uploads the packed artifact —
 * or builds and pushes the image with this machine's engine and registry login (agent-image.ts) —
 * and reports. Sees nothing of the server but its API and its own token.
 */
export async function runAgent(o: AgentOptions): Promise<void> {
  const say = o.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  const workDir = await realpathMade(o.workDir);
  const sandbox = await createSandbox({ mode: o.sandbox ?? 'auto', hidden: [] });
  say(
    `gantry agent: ${o.server}, labels ${o.labels.join(', ') || "(the token's)"}, sandbox ${sandbox.status.active ? 'bwrap' : `off (${sandbox.status.reason})`}`,
  );
  // Deploy jobs (gantry.yaml hosts) run beside the builds; a refused token stops both.
  const stop = new AbortController();
  if (o.signal?.aborted) stop.abort();
  o.signal?.addEventListener('abort', () => stop.abort(o.signal?.reason), { once: true });
  const api = new AgentApi(o.server, o.token, o.maxBackoffMs ?? 5_000, say, stop.signal);
  const listen = o.listen ?? '127.0.0.1';
  const hosts = runHostJobs({
    api,
    token: o.token,
    labels: o.labels,
    workDir,
    listen,
    address: o.address ?? (listen === '0.0.0.0' || listen === '::' ? hostname() : listen),
    say,
    signal: stop.signal,
  });
  hosts.catch(() => stop.abort());
  try {
    await runBuildJobs(o, api, workDir, sandbox, say, stop.signal);
  } finally {
    stop.abort();
    await hosts;
  }
}

async function runBuildJobs(
  o: AgentOptions,
  api: AgentApi,
  workDir: string,
  sandbox: Sandbox,
  say: (line: string) => void,
  signal: AbortSignal,
): Promise<void> {
  let connected = false;
  while (!signal.aborted) {
    const job = await api.call<AgentJob | null>(
      'POST',
      '/api/agent/claim',
      o.labels.length ? { labels: o.labels } : {},
    );
    if (!connected) {
      say('gantry agent: connected');
      connected = true;
    }
    if (!job) {
      await sleep(o.pollMs ?? 1_000, signal);
      continue;
    }
    say(`gantry agent: building ${job.build.app} ${job.build.sha.slice(0, 12)} (${job.build.id})`);
    const outcome = await runJob(api, job, workDir, sandbox, o.heartbeatMs ?? 1_000).catch(
      async (e: unknown) => {
        if (e instanceof LeaseLost) return `lease lost: ${e.message}; dropped the job`;
        if (e instanceof AgentRefused) throw e;
        // Anything else (the source could not be unpacked, a request was refused): the build failed.
        const error = `the agent could not run the build: ${e instanceof Error ? e.message : String(e)}`;
        await api
          .call('POST', `/api/agent/jobs/${job.build.id}/finish`, {
            lease: job.lease,
            status: 'failed',
            error,
            exitCode: null,
          })
          .catch(() => undefined);
        return `failed: ${error}`;
      },
    );
    say(`gantry agent: ${job.build.id} ${outcome}`);
  }
}

async function runJob(api: AgentApi, job: AgentJob, workDir: string, sandbox: Sandbox, heartbeatMs: number) {
  const dir = join(workDir, job.build.id);
  const src = join(dir, 'src');
  const ac = new AbortController();
  const path = (p: string) => `/api/agent/jobs/${job.build.id}${p}`;
  const heartbeat = setInterval(() => {
    void api
      .call<{ cancel: boolean }>('POST', path('/heartbeat'), { lease: job.lease }, { retry: false })
      .then((r) => r?.cancel && ac.abort(new Error('cancelled')))
      .catch((e: unknown) => {
        if (e instanceof LeaseLost || e instanceof AgentRefused) ac.abort(e);
      });
  }, heartbeatMs);
  const cache = job.cache ? new BuildCache(join(workDir, 'cache')) : undefined;
  let saveCache = false;
  const deadline = Date.parse(job.build.startedAt) + job.build.sloMs * 2;
  const killTimer = setTimeout(() => ac.abort(new Error('timeout')), Math.max(1, deadline - Date.now()));
  try {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const res = await api.raw('GET', `${path('/source')}?lease=${encodeURIComponent(job.lease)}`);
    const body = Buffer.from(await res.arrayBuffer());
    await unpackStream(Readable.from([body]), src);
    const fail = async (error: string, exitCode: number | null) => {
      const reason = ac.signal.reason as Error | undefined;
      if (reason instanceof LeaseLost || reason instanceof AgentRefused) throw reason;
      const cancelled = reason?.message === 'cancelled';
      const timeout = reason?.message === 'timeout';
      const message = cancelled
        ? 'build cancelled'
        : timeout
          ? `build exceeded twice its SLO (${Math.round((job.build.sloMs * 2) / 1000)} s) and was stopped`
          : error;
      await api.call('POST', path('/finish'), {
        lease: job.lease,
        status: cancelled ? 'cancelled' : 'failed',
        error: message,
        exitCode,
      });
      return cancelled ? 'cancelled' : `failed: ${message.split('\n')[0]}`;
    };
    const buildLike = { id: job.build.id, sha: job.build.sha } as Build;
    const configLike = { build: { env: job.env, network: job.network } } as GantryYaml;
    const steps = await stepSandbox(
      sandbox,
      buildLike,
      configLike,
      { name: job.build.app, mirror: src },
      src,
      job.secrets,
    );
    const mask = new SecretMasker(Object.values(job.secrets));
    const logs = new LogShipper(api, path('/log'), job.lease, (e) => ac.abort(e));
    logs.push(0, Buffer.from(`${steps.logLine.trimEnd()} (agent)\n`));
    if (cache && job.cache) {
      // This machine's own cache, keyed as on the servers (the lock files' hash at the commit).
      const restored = await cache
        .restore(cacheApp(job), job.cache.key, job.cache.folders, src)
        .catch((e: unknown) => {
          logs.push(0, Buffer.from(`gantry: the cache could not be restored: ${(e as Error).message}\n`));
          return [];
        });
      logs.push(
        0,
        Buffer.from(
          `gantry: cache ${job.cache.key.slice(0, 12)} on this agent: ${restored.length ? `restored ${restored.join(', ')}` : 'none yet'}\n`,
        ),
      );
    }
    for (const [idx, step] of job.steps.entries()) {
      await api.call('POST', path(`/steps/${idx}`), { lease: job.lease, status: 'running' });
      const out = await runStep({
        command: step.run,
        cwd: src,
        env: steps.env,
        wrapper: steps.wrapper,
        logFile: join(dir, 'logs', `${idx}.log`),
        timeoutMs: Math.max(1, Math.min(step.timeout ?? Number.POSITIVE_INFINITY, deadline - Date.now())),
        signal: ac.signal,
        mask,
        onOutput: (chunk) => logs.push(idx, chunk),
      });
      await logs.flush();
      const ok = out.exitCode === 0 && !out.stoppedBy;
      const status = ok ? 'succeeded' : out.stoppedBy === 'abort' ? 'cancelled' : 'failed';
      if (ac.signal.reason instanceof LeaseLost) throw ac.signal.reason;
      await api.call('POST', path(`/steps/${idx}`), {
        lease: job.lease,
        status,
        exitCode: out.exitCode,
        tail: out.tail,
      });
      if (ok) continue;
      const why =
        out.failure ??
        (out.stoppedBy === 'timeout'
          ? `step "${step.name}" timed out and was stopped`
          : `step "${step.name}" failed with exit code ${out.exitCode}`);
      return await fail(`${why}; last lines:\n${out.tail}`, out.exitCode);
    }
    // Every step succeeded: the cache folders are worth keeping (saved once the job is reported).
    saveCache = true;
    if (job.image) {
      // One more step, as on the servers: built and pushed by this process, outside the sandbox.
      const idx = job.steps.length;
      await api.call('POST', path(`/steps/${idx}`), { lease: job.lease, status: 'running' });
      const tail = new LogTail(20, 4096);
      const line = (text: string) => {
        const chunk = Buffer.from(mask.text(`${text}\n`));
        tail.push(chunk);
        logs.push(idx, chunk);
      };
      try {
        await buildImageHere(job, src, line, ac.signal);
      } catch (e) {
        const reason = ac.signal.reason as Error | undefined;
        if (reason instanceof LeaseLost || reason instanceof AgentRefused) throw reason;
        const stopped = ac.signal.aborted;
        const message = e instanceof Error ? e.message : String(e);
        const before = tail.text();
        if (!stopped) line(`gantry: ${message}`);
        await logs.flush();
        await api.call('POST', path(`/steps/${idx}`), {
          lease: job.lease,
          status: stopped ? 'cancelled' : 'failed',
          exitCode: stopped ? null : 1,
          tail: tail.text(),
        });
        return await fail(`${message}${before ? `; last lines:\n${before}` : ''}`, stopped ? null : 1);
      }
      await logs.flush();
      // The server ends the image step: it reads the digest from the registry, not from here.
      const done = await api.call<Build>('POST', path('/finish'), {
        lease: job.lease,
        status: 'succeeded',
        kind: 'image',
        tail: tail.text(),
      });
      return done.status === 'succeeded'
        ? `succeeded (image ${job.image.name}:${job.image.tag.slice(0, 12)} pushed, artifact ${done.artifactId})`
        : `failed: ${(done.error ?? '').split('\n')[0]}`;
    }
    // Packed here as the servers' runner packs: inside the worktree, its links kept inside it.
    const root = await realpath(src);
    const folder = await insideWorktree(src, job.artifactPath, 'artifact path').catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return join(src, job.artifactPath);
      throw e;
    });
    const file = join(dir, 'artifact.tar.gz');
    const packed = await packDirectory(folder, file, {
      displayPath: job.artifactPath,
      ...(folder === root && { exclude: [STEP_HOME] }),
    }).catch((e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }));
    if ('error' in packed) return await fail(packed.error, null);
    await api.call(
      'PUT',
      `${path('/artifact')}?lease=${encodeURIComponent(job.lease)}&digest=${encodeURIComponent(packed.digest)}`,
      () => createReadStream(file),
    );
    await api.call('POST', path('/finish'), {
      lease: job.lease,
      status: 'succeeded',
      digest: packed.digest,
      size: packed.size,
    });
    return `succeeded (${packed.digest.slice(0, 19)}…, ${packed.size} bytes)`;
  } finally {
    clearInterval(heartbeat);
    clearTimeout(killTimer);
    if (cache && job.cache && saveCache && !ac.signal.aborted)
      await cache.save(cacheApp(job), job.cache.key, job.cache.folders, src).catch(() => false);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The cache folder of the job's app on this machine (app names are slugs; anything else is cut). */
function cacheApp(job: AgentJob): string {
  return job.build.app.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Sends a job's output in order, a batch at a time, while the steps run. */
class LogShipper {
  private pending: { step: number; data: Buffer }[] = [];
  private sending: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly api: AgentApi,
    private readonly path: string,
    private readonly lease: string,
    private readonly lost: (e: Error) => void,
  ) {}

  push(step: number, data: Buffer): void {
    const last = this.pending.at(-1);
    if (last && last.step === step && last.data.length < 256 * 1024)
      last.data = Buffer.concat([last.data, data]);
    else this.pending.push({ step, data: Buffer.from(data) });
    this.timer ??= setTimeout(() => void this.flush(), 200);
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.sending = this.sending.then(async () => {
      for (const { step, data } of batch) {
        await this.api
          .call('POST', this.path, { lease: this.lease, step, data: data.toString('base64') })
          .catch((e: unknown) => this.lost(e as Error));
      }
    });
    return this.sending;
  }
}

/** The agent API with the agent's token; retries while the server is unreachable (or answers 5xx). */
/** The longest a JSON call of the agent API may take (they answer in milliseconds). */
const REQUEST_TIMEOUT_MS = 30_000;

export class AgentApi {
  constructor(
    private readonly base: string,
    private readonly token: string,
    private readonly maxBackoffMs: number,
    private readonly say: (line: string) => void,
    private readonly signal?: AbortSignal,
  ) {}

  async raw(
    method: string,
    path: string,
    body?: unknown | (() => Readable),
    opts: { retry?: boolean; timeoutMs?: number } = {},
  ): Promise<Response> {
    let wait = 250;
    let told = false;
    const timeoutMs =
      opts.timeoutMs ?? (typeof body !== 'function' && method !== 'GET' ? REQUEST_TIMEOUT_MS : undefined);
    for (;;) {
      const stream = typeof body === 'function';
      let res: Response | undefined;
      let problem: string;
      try {
        res = await fetch(`${this.base.replace(/\/$/, '')}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(body === undefined
              ? {}
              : { 'content-type': stream ? 'application/octet-stream' : 'application/json' }),
          },
          body: stream
            ? (Readable.toWeb((body as () => Readable)()) as ReadableStream)
            : body === undefined
              ? undefined
              : JSON.stringify(body),
          ...(stream && { duplex: 'half' }),
          // A request on a connection a network cut left dead would wait for the kernel's retries
          // (minutes); one JSON call gets REQUEST_TIMEOUT_MS, then is retried on a new connection.
          ...(timeoutMs !== undefined && {
            signal: this.signal
              ? AbortSignal.any([this.signal, AbortSignal.timeout(timeoutMs)])
              : AbortSignal.timeout(timeoutMs),
          }),
        } as RequestInit);
        if (res.ok) return res;
        const text = await res.text();
        const message = messageOf(text) ?? `${res.status} ${res.statusText}`;
        if (res.status === 401) throw new AgentRefused(`the server refused the agent token: ${message}`);
        if (res.status === 409) throw new LeaseLost(message);
        if (res.status < 500) throw new Error(`${method} ${path}: ${res.status} ${message}`);
        problem = `${res.status} ${message}`;
      } catch (e) {
        if (e instanceof AgentRefused || e instanceof LeaseLost || (res && res.status < 500)) throw e;
        problem = res
          ? `${res.status}`
          : ((e as Error & { cause?: Error }).cause?.message ?? (e as Error).message);
      }
      if (opts.retry === false) throw new Error(`server unreachable: ${problem}`);
      if (this.signal?.aborted) throw this.signal.reason;
      if (!told) this.say(`gantry agent: server unreachable (${problem}); retrying with backoff`);
      told = true;
      await sleep(wait, this.signal);
      wait = Math.min(wait * 2, this.maxBackoffMs);
    }
  }

  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown | (() => Readable),
    opts: { retry?: boolean; timeoutMs?: number } = {},
  ): Promise<T> {
    const res = await this.raw(method, path, body, opts);
    const text = await res.text();
    return (text ? JSON.parse(text) : null) as T;
  }
}

function messageOf(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { message?: string; error?: string };
    return body.message ?? body.error;
  } catch {
    return text.trim() || undefined;
  }
}

async function realpathMade(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return realpath(dir);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
