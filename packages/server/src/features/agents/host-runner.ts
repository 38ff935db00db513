import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type {
  Driver,
  DriverContext,
  DriverEvent,
  EnvironmentSpec,
  ReleaseArtifact,
} from '@gantry/driver-api';
import { createContainerDriver } from '../../drivers/container/container-driver.js';
import { createProcessDriver } from '../../drivers/process/process-driver.js';
import { allowlistedEnv } from '../../sandbox/sandbox.js';
import type { AgentApi } from './agent-worker.js';
import type { HostJob, RemoteArtifact } from './host-jobs.js';
import type { HostDeployResult } from './remote-hosts-driver.js';
import { openServedSecrets, type SealedServedSecrets, sealServedSecrets } from './served-secrets.js';

export interface HostRunnerOptions {
  api: AgentApi;
  /** The labels to hold hosts with (a subset of the token's); empty: the token's own. */
  labels: string[];
  workDir: string;
  /** The address environments' proxies listen on here (default 127.0.0.1). */
  listen: string;
  /** How others reach this machine, in the URLs reported (default: `listen`, or the hostname). */
  address: string;
  say: (line: string) => void;
  signal?: AbortSignal;
  /** The agent's token: served.json's secrets are sealed with a key derived from it. */
  token: string;
}

/** What an agent keeps per environment beside the driver's workdir: what serves, and how to get it again. */
interface ServedFile {
  serving: { sha: string; artifact: RemoteArtifact; deploymentId?: string } | null;
  /** The environment as last deployed here, its driver and the host it was deployed for: what a
   *  restarted agent needs to make it serve again before any call comes (files before these lack them). */
  spec?: EnvironmentSpec;
  driver?: string;
  host?: string;
  /** The spec's secrets, sealed with the agent token (served-secrets.ts); the spec holds none. */
  sealedSecrets?: SealedServedSecrets;
}

/**
 * The deploy half of `gantry agent`: holds the hosts among its labels and runs the driver calls of
 * the environments that live on them (gantry.yaml `hosts`), here, with this machine's process or
 * container driver, each environment's proxy listening on `listen`. Calls run side by side (a health
 * check must not wait for a deployment); the server sends one deployment per environment at a time.
 */
export async function runHostJobs(o: HostRunnerOptions): Promise<void> {
  const instance = randomBytes(12).toString('base64url');
  const drivers = new Map<string, Driver>();
  const driverFor = (name: string): Driver => {
    let d = drivers.get(name);
    if (!d) {
      if (name === 'process') {
        const { CI: _ci, ...baseEnv } = allowlistedEnv(process.env);
        d = createProcessDriver({ listenHost: o.listen, baseEnv });
      } else if (name === 'container') d = createContainerDriver({ listenHost: o.listen });
      else throw new Error(`the ${name} driver does not run on agents; use process or container`);
      drivers.set(name, d);
    }
    return d;
  };
  const running = new Set<Promise<void>>();
  const envChains = new Map<string, Promise<void>>();
  try {
    // First what ran here before this agent started: a release that crashed while no agent
    // supervised it starts again now, not at the next call (the server's calls wait meanwhile; a
    // deployment must not race a restore of the release before it).
    await restoreServed(o, instance, driverFor);
    while (!o.signal?.aborted) {
      let job: HostJob | null;
      try {
        job = await o.api.call<HostJob | null>(
          'POST',
          '/api/agent/hosts/claim',
          { instance, waitMs: 20_000, address: o.address, ...(o.labels.length && { labels: o.labels }) },
          { timeoutMs: 45_000 },
        );
      } catch (e) {
        if (o.signal?.aborted) break;
        if ((e as Error).name === 'AgentRefused') throw e;
        o.say(`gantry agent: asking for deploy work failed (${(e as Error).message}); trying again`);
        await new Promise((r) => setTimeout(r, 1_000));
        continue;
      }
      if (!job) continue;
      const taken = job;
      // Calls that change what an environment runs (deploy, restore, stop) go one after another per
      // environment; health and traffic calls run beside them.
      const key = `${taken.payload.spec.app}\u0000${taken.payload.spec.name}`;
      const changes = taken.kind === 'deploy' || taken.kind === 'restore' || taken.kind === 'stop';
      const after = changes ? (envChains.get(key) ?? Promise.resolve()) : Promise.resolve();
      const p = runHostJob(o, instance, driverFor, taken, after)
        .catch((e: unknown) =>
          o.say(`gantry agent: host job ${taken.id} could not report: ${(e as Error).message}`),
        )
        .finally(() => {
          running.delete(p);
          if (envChains.get(key) === p) envChains.delete(key);
        });
      if (changes) envChains.set(key, p);
      running.add(p);
    }
  } finally {
    await Promise.allSettled([...running]);
    for (const d of drivers.values()) await d.close?.().catch(() => undefined);
  }
}

async function runHostJob(
  o: HostRunnerOptions,
  instance: string,
  driverFor: (name: string) => Driver,
  job: HostJob,
  /** What must end first: the environment's call before this one (it is started meanwhile). */
  after: Promise<void> = Promise.resolve(),
): Promise<void> {
  const { spec } = job.payload;
  const path = (p: string) => `/api/agent/host-jobs/${job.id}${p}`;
  const envDir = join(o.workDir, 'envs', spec.app);
  const servedFile = join(envDir, `${spec.name}.served.json`);
  const lines: string[] = [];
  let phases = Promise.resolve();
  const ctx: DriverContext = {
    logger: {
      info: (m) => lines.push(m),
      warn: (m) => lines.push(`warning: ${m}`),
      error: (m) => lines.push(`error: ${m}`),
    },
    signal: o.signal ?? new AbortController().signal,
    workdir: join(envDir, spec.name),
    phase: (phase) => {
      phases = phases
        .then(() => o.api.call('POST', path('/phase'), { instance, phase }, { retry: false }))
        .then(() => undefined)
        .catch(() => undefined);
    },
    report: (event: DriverEvent) =>
      void o.api
        .call('POST', '/api/agent/hosts/events', {
          instance,
          host: job.host,
          app: spec.app,
          env: spec.name,
          event,
        })
        .catch(() => undefined),
    ...(job.payload.fence !== undefined && { fence: job.payload.fence }),
  };
  try {
    await o.api.call('POST', path('/start'), { instance }, { retry: false });
  } catch (e) {
    // Offered too long ago (the reply came late) or never reached: it is queued again, maybe for us.
    o.say(`gantry agent: host job ${job.id} not started: ${(e as Error).message}`);
    return;
  }
  await after.catch(() => undefined);
  let outcome: { ok: true; result: unknown } | { ok: false; error: string };
  try {
    await mkdir(ctx.workdir, { recursive: true, mode: 0o700 });
    const driver = driverFor(job.payload.driver);
    outcome = { ok: true, result: await call(o, instance, driver, job, ctx, servedFile) };
  } catch (e) {
    const said = lines.length ? `\n${lines.slice(-20).join('\n')}` : '';
    outcome = { ok: false, error: `${(e as Error).message}${said}` };
  }
  await phases;
  if (job.kind !== 'health' && job.kind !== 'traffic')
    o.say(
      `gantry agent: ${job.kind} ${spec.app}/${spec.name} on ${job.host}: ${outcome.ok ? 'done' : `failed: ${outcome.error.split('\n')[0]}`}`,
    );
  // A result is delivered until the server takes it or says it stopped waiting (409).
  await o.api.call('POST', path('/finish'), { instance, ...outcome });
}

async function call(
  o: HostRunnerOptions,
  instance: string,
  driver: Driver,
  job: HostJob,
  ctx: DriverContext,
  servedFile: string,
): Promise<unknown> {
  const { spec } = job.payload;
  switch (job.kind) {
    case 'deploy':
    case 'restore': {
      const release = job.payload.release;
      if (!release) throw new Error('a deploy job without a release');
      const before = await readServed(servedFile);
      const artifact = await localArtifact(o, instance, job, release.artifact);
      const result = await driver.deploy(
        { env: spec, sha: release.sha, deploymentId: release.deploymentId, artifact },
        ctx,
      );
      const { secrets, ...plain } = spec;
      const served: ServedFile = {
        serving: { sha: release.sha, artifact: release.artifact, deploymentId: release.deploymentId },
        spec: plain,
        driver: job.payload.driver,
        host: job.host,
        ...(secrets &&
          Object.keys(secrets).length > 0 && { sealedSecrets: sealServedSecrets(secrets, o.token) }),
      };
      await writeFile(servedFile, JSON.stringify(served), { mode: 0o600 });
      const answer: HostDeployResult = {
        url: reachable(result.url, o),
        kind: result.kind,
        previous: before.serving && before.serving.sha !== release.sha ? before.serving : null,
      };
      return answer;
    }
    case 'health':
      return driver.health(spec, ctx);
    case 'stop':
      await driver.stop(spec, ctx);
      await rm(servedFile, { force: true });
      return null;
    case 'traffic':
      if (!driver.traffic) throw new Error(`the ${driver.name} driver does not report traffic`);
      return driver.traffic(spec, ctx, { sinceMs: job.payload.sinceMs ?? 0 });
  }
}

/**
 * At start: every environment this work dir served (`envs/<app>/<env>.served.json`) for a host among
 * the agent's labels is restored by its driver, side by side — what still runs is adopted and
 * supervised again, what died is started again from the cached artifact. A failure is said and left
 * to the next deployment.
 */
async function restoreServed(
  o: HostRunnerOptions,
  instance: string,
  driverFor: (name: string) => Driver,
): Promise<void> {
  const root = join(o.workDir, 'envs');
  const files: string[] = [];
  for (const app of await readdir(root).catch(() => [] as string[]))
    for (const f of await readdir(join(root, app)).catch(() => [] as string[]))
      if (f.endsWith('.served.json')) files.push(join(root, app, f));
  await Promise.all(
    files.map(async (file) => {
      const { serving, spec: plain, driver: name, host, sealedSecrets } = await readServed(file);
      if (!serving || !plain || !name || !host) return;
      if (o.labels.length && !o.labels.includes(host)) return;
      const what = `${plain.app}/${plain.name} on ${host}`;
      let spec = plain;
      try {
        if (sealedSecrets) spec = { ...plain, secrets: openServedSecrets(sealedSecrets, o.token) };
      } catch (e) {
        o.say(
          `gantry agent: ${what}: could not restore ${serving.sha.slice(0, 12)}: ${(e as Error).message}`,
        );
        return;
      }
      const ctx: DriverContext = {
        logger: {
          info: () => undefined,
          warn: (m) => o.say(`gantry agent: ${what}: ${m}`),
          error: (m) => o.say(`gantry agent: ${what}: ${m}`),
        },
        signal: o.signal ?? new AbortController().signal,
        workdir: join(root, spec.app, spec.name),
        phase: () => undefined,
        report: (event: DriverEvent) =>
          void o.api
            .call('POST', '/api/agent/hosts/events', { instance, host, app: spec.app, env: spec.name, event })
            .catch(() => undefined),
      };
      try {
        const driver = driverFor(name);
        if (!driver.restore) return;
        const artifact = await cachedArtifact(o, serving.artifact);
        const release = { env: spec, sha: serving.sha, deploymentId: serving.deploymentId ?? '', artifact };
        const result = await driver.restore(spec, release, ctx);
        o.say(
          `gantry agent: ${what}: ${result.kind === 'noop' ? 'still serving' : 'started again'} ${serving.sha.slice(0, 12)}`,
        );
      } catch (e) {
        o.say(
          `gantry agent: ${what}: could not restore ${serving.sha.slice(0, 12)}: ${(e as Error).message}`,
        );
      }
    }),
  );
}

/** The served artifact from this machine's cache (an image as is): a restore downloads nothing. */
async function cachedArtifact(o: HostRunnerOptions, a: RemoteArtifact): Promise<ReleaseArtifact> {
  if (a.kind === 'image') return a;
  const file = cacheFile(o, a.digest);
  if (!(await stat(file).catch(() => null)))
    throw new Error(`its artifact ${a.digest} is not in this agent's cache`);
  return { kind: 'tarball', path: file, digest: a.digest };
}

/** Where this agent caches the tarball of `digest`. */
function cacheFile(o: HostRunnerOptions, digest: string): string {
  const hex = /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1];
  if (!hex) throw new Error(`invalid digest ${digest}`);
  return join(o.workDir, 'artifacts', `${hex}.tar.gz`);
}

async function readServed(file: string): Promise<ServedFile> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ServedFile;
  } catch {
    return { serving: null };
  }
}

/** The release's artifact on this machine: an image as is, a tarball from the cache or the server. */
async function localArtifact(
  o: HostRunnerOptions,
  instance: string,
  job: HostJob,
  a: RemoteArtifact,
): Promise<ReleaseArtifact> {
  if (a.kind === 'image') return a;
  const file = cacheFile(o, a.digest);
  if (await stat(file).catch(() => null)) return { kind: 'tarball', path: file, digest: a.digest };
  await mkdir(join(o.workDir, 'artifacts'), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.part`;
  try {
    const res = await o.api.raw(
      'GET',
      `/api/agent/host-jobs/${job.id}/artifact?instance=${encodeURIComponent(instance)}`,
    );
    const hash = createHash('sha256');
    await pipeline(
      Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      }),
      createWriteStream(tmp, { mode: 0o600 }),
    );
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== a.digest) throw new Error(`the artifact downloaded has digest ${got}, not ${a.digest}`);
    await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
  return { kind: 'tarball', path: file, digest: a.digest };
}

/** The URL a driver reports, with an address others can reach when the proxy listens on every one. */
function reachable(url: string, o: HostRunnerOptions): string {
  const u = new URL(url);
  if (u.hostname === o.listen || `[${o.listen}]` === u.hostname) u.hostname = o.address;
  return u.toString().replace(/\/$/, '');
}
