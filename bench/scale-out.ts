import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Build, Deployment, GantryEvent } from '@gantry/contracts';
import pg from 'pg';
import { freePort } from '../packages/server/src/drivers/process/free-port.js';
import { ask } from './cluster-toggles.js';
import { git, PG_URL, percentile, repoPair, type Scope, sleep } from './support.js';

const BIN = new URL('../packages/cli/bin/gantry.js', import.meta.url).pathname;

export interface ScaleOutResults {
  servers: number;
  apps: number;
  pushes: number;
  pushEveryMs: number;
  /** Build queued → started, ms. */
  queueWaitP50: number;
  queueWaitP95: number;
  /** Push → QA serving it (the deploy script wrote the SHA), ms. */
  pushToQaP50: number;
  pushToQaP95: number;
  /** GET /api/status on a random server, ms, during the pushes. */
  apiP99: number;
  /** Simulated SDK clients during the pushes: streaming connections held, polling clients. */
  streams: number;
  pollers: number;
  pollIntervalMs: number;
  /** Streams or polls that failed (none is expected). */
  streamsFailed: number;
  pollsFailed: number;
  /** A polling client's `GET /api/client/features` (ETag; 304 when unchanged), ms. */
  pollP50: number;
  pollP99: number;
  polls: number;
  /** Toggle changes made during the pushes, each on the next server: → the last streaming client has it, ms. */
  toggleChanges: number;
  toggleAllUpdatedP50: number;
  toggleAllUpdatedMax: number;
  duplicatedBuilds: number;
  duplicatedDeployments: number;
  lostPushes: number;
  /** SIGSTOP of the server running a build → another server started it again, ms (GANTRY_STALE_AFTER_MS 10 s). */
  buildTakeoverMs: number;
  /** SIGSTOP of the server running a deployment → another took the environment over, ms (GANTRY_DEPLOY_LEASE_MS 10 s). */
  deployTakeoverMs: number;
}

interface Member {
  child: ChildProcess;
  url: string;
  paused?: boolean;
}

/**
 * Three `gantry server` processes on one PostgreSQL schema, each with its own data dir, at their
 * default lease and heartbeat settings: `apps` apps get a push every `pushEveryMs` in turn (each
 * through a server picked in turn), every commit is built and deployed to a `command` environment;
 * then one server is paused (SIGSTOP) in the middle of a build and one in the middle of a
 * deployment, and the time until another server takes each over is measured.
 */
export async function benchScaleOut(
  scope: Scope,
  opts: {
    apps: number;
    pushes: number;
    pushEveryMs: number;
    /** Streaming SDK connections, spread over the servers. */
    streams: number;
    /** Polling SDK clients, each asking every `pollIntervalMs` (Unleash SDKs' default 15 s). */
    pollers: number;
    pollIntervalMs?: number;
    /** A toggle change every so often during the pushes. */
    toggleEveryMs?: number;
  },
): Promise<ScaleOutResults> {
  const pollIntervalMs = opts.pollIntervalMs ?? 15_000;
  const perServer = Math.ceil(opts.streams / 3);
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  scope.defer(async () => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  });
  const cluster = await scope.tempDir('cluster');
  const members: Member[] = [];
  let token = '';
  const join_ = async () => {
    const dataDir = await scope.tempDir('data');
    if (token)
      await writeFile(join(dataDir, 'cli.json'), JSON.stringify({ url: 'http://127.0.0.1:1', token }));
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'server', '--data-dir', dataDir, '--port', String(port)], {
      env: {
        ...process.env,
        GANTRY_DATABASE_URL: PG_URL,
        GANTRY_DATABASE_SCHEMA: schema,
        GANTRY_POLL_INTERVAL_MS: '0',
        GANTRY_LOG_LEVEL: 'warn',
        GANTRY_BUILDS_SANDBOX: 'off',
        GANTRY_SSE_MAX_PER_TOKEN: String(perServer + 10),
        GANTRY_SSE_MAX_TOTAL: String(perServer + 100),
        XDG_CONFIG_HOME: join(dataDir, 'xdg'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    scope.defer(async () => {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      if (child.exitCode === null && child.signalCode === null)
        await new Promise((r) => child.once('exit', r));
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (out += d));
    const until = Date.now() + 60_000;
    while (!out.includes('Gantry is listening on')) {
      if (child.exitCode !== null || Date.now() > until)
        throw new Error(`gantry server did not start: ${out}`);
      await sleep(50);
    }
    token ||= (JSON.parse(await readFile(join(dataDir, 'cli.json'), 'utf8')) as { token: string }).token;
    members.push({ child, url: `http://127.0.0.1:${port}` });
  };
  await join_();
  await Promise.all([join_(), join_()]);

  let turn = 0;
  const pick = () => {
    const up = members.filter((m) => m.child.signalCode === null && !m.paused);
    return up[turn++ % up.length]!;
  };
  const api = async <T>(method: string, path: string, body?: unknown, on = pick()): Promise<T> => {
    const res = await fetch(`${on.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  const deploy = [
    'set -e',
    'if [ -f "$CLUSTER/slow-deploy" ]; then sleep 30; fi',
    'echo "$GANTRY_SHA $(date +%s%3N)" >> "$CLUSTER/$GANTRY_APP.log"',
    'echo "$GANTRY_SHA"',
  ].join('\n');
  const yaml = (name: string) => `build:
  steps:
    - { name: package, run: "if [ -f ${cluster}/slow-build ]; then sleep 30; fi; mkdir -p dist && cp VERSION dist/" }
  artifact: { path: dist }
environments:
  qa:
    auto_deploy: true
    driver: command
    deploy: ${JSON.stringify(deploy)}
    health: "tail -n1 \\"$CLUSTER/${name}.log\\" 2>/dev/null | cut -d' ' -f1"
    config: { CLUSTER: ${JSON.stringify(cluster)} }
`;
  const apps: { name: string; work: string; n: number }[] = [];
  for (let i = 0; i < opts.apps; i++) {
    const name = `app${i}`;
    const { bare, work } = await repoPair(scope);
    await writeFile(join(work, 'gantry.yaml'), yaml(name));
    await writeFile(join(work, 'VERSION'), '0\n');
    await git(['add', '--all'], work);
    await git(['commit', '--quiet', '-m', 'first'], work);
    await git(['push', '--quiet', 'origin', 'main'], work);
    await api('POST', '/api/apps', { name, repoUrl: bare });
    apps.push({ name, work, n: 0 });
  }
  const served = async (app: string, sha: string) =>
    (await readFile(join(cluster, `${app}.log`), 'utf8').catch(() => '')).includes(sha);
  // Every app's first commit in QA before the load starts (its queue wait is not the load's).
  const setUp = Date.now() + 600_000;
  for (const app of apps) {
    const first = (await git(['rev-parse', 'HEAD'], app.work)).stdout.trim();
    while (!(await served(app.name, first))) {
      if (Date.now() > setUp) throw new Error(`${app.name}'s first commit never reached QA`);
      await sleep(200);
    }
  }

  // SDK clients of app0's QA toggles: streaming and polling, in a process of their own.
  await api('POST', '/api/apps/app0/toggles', { name: 'fleet-flag' });
  const flagEnv = '/api/apps/app0/toggles/fleet-flag/environments/qa';
  await api('PUT', flagEnv, { enabled: false, strategies: [{ name: 'default' }] });
  const sdk = await api<{ token: string }>('POST', '/api/apps/app0/client-tokens', { env: 'qa' });
  const clients = fork(new URL('./cluster-clients.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  clients.setMaxListeners(0);
  let clientsUp = true;
  const stopClients = async () => {
    if (!clientsUp) return;
    clientsUp = false;
    clients.send({ kind: 'stop' });
    if (clients.exitCode === null) await new Promise((r) => clients.once('exit', r));
  };
  scope.defer(stopClients);
  const urls = members.map((m) => m.url);
  const opened = await ask<{ failed: number }>(
    clients,
    { kind: 'open', urls, token: sdk.token, perServer },
    'opened',
    600_000,
  );
  clients.send({ kind: 'poll', urls, token: sdk.token, clients: opts.pollers, intervalMs: pollIntervalMs });
  const db = new pg.Client({ connectionString: PG_URL });
  await db.connect();
  scope.defer(() => db.end());
  const toggleLast: number[] = [];

  // The load: a push every pushEveryMs, apps in turn; API reads beside it.
  const pushed: { app: string; sha: string; at: number }[] = [];
  const apiMs: number[] = [];
  let reading = true;
  const reader = (async () => {
    while (reading) {
      const t = performance.now();
      await api('GET', '/api/status').catch(() => undefined);
      apiMs.push(performance.now() - t);
      await sleep(100);
    }
  })();
  let pushing = true;
  const toggler = (async () => {
    for (let i = 0; pushing; i++) {
      await sleep(opts.toggleEveryMs ?? 20_000);
      if (!pushing) break;
      const started = performance.timeOrigin + performance.now();
      await api('PUT', flagEnv, { enabled: i % 2 === 0 }, members[i % members.length]);
      const { rows } = await db.query<{ revision: string }>(
        `SELECT revision FROM "${schema}".toggle_revisions WHERE env = 'qa'`,
      );
      const { times } = await ask<{ times: number[] }>(
        clients,
        { kind: 'expect', revision: Number(rows[0]!.revision) },
        'updated',
        60_000,
      );
      toggleLast.push(Math.max(...times.map((t) => t - started)));
    }
  })();
  for (let i = 0; i < opts.pushes; i++) {
    const started = Date.now();
    const app = apps[i % apps.length]!;
    await writeFile(join(app.work, 'VERSION'), `${++app.n}\n`);
    await git(['commit', '--quiet', '-am', `change ${app.n}`], app.work);
    await git(['push', '--quiet', 'origin', 'main'], app.work);
    const sha = (await git(['rev-parse', 'HEAD'], app.work)).stdout.trim();
    await api('POST', `/api/apps/${app.name}/sync`);
    pushed.push({ app: app.name, sha, at: Date.now() });
    await sleep(Math.max(0, opts.pushEveryMs - (Date.now() - started)));
  }
  pushing = false;
  await toggler;
  const polled = await ask<{ ms: number[]; ok: number; notModified: number; failed: number }>(
    clients,
    { kind: 'polled' },
    'polls',
    60_000,
  );
  await stopClients();
  // Each app's last push must reach QA; earlier ones may be superseded (queue: latest).
  const lastOf = new Map(pushed.map((p) => [p.app, p]));
  const until = Date.now() + 180_000;
  for (const p of lastOf.values()) {
    while (!(await served(p.app, p.sha))) {
      if (Date.now() > until) break;
      await sleep(200);
    }
  }
  reading = false;
  await reader;

  const builds = (
    await Promise.all(apps.map((a) => api<Build[]>('GET', `/api/builds?app=${a.name}&limit=500`)))
  ).flat();
  const deployments = (
    await Promise.all(apps.map((a) => api<Deployment[]>('GET', `/api/deployments?app=${a.name}&limit=500`)))
  ).flat();
  const waits = builds
    .filter((b) => b.startedAt)
    .map((b) => Date.parse(b.startedAt!) - Date.parse(b.queuedAt));
  const count = (keys: string[]) => {
    const seen = new Map<string, number>();
    for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
    return [...seen.values()].filter((n) => n > 1).length;
  };
  const duplicatedBuilds = count(
    builds.filter((b) => b.status === 'succeeded').map((b) => `${b.appId}:${b.sha}`),
  );
  const duplicatedDeployments = count(
    deployments.filter((d) => d.status === 'succeeded').map((d) => `${d.appId}:${d.env}:${d.sha}`),
  );
  const toQa: number[] = [];
  let lost = 0;
  for (const p of pushed) {
    const log = await readFile(join(cluster, `${p.app}.log`), 'utf8').catch(() => '');
    const line = log.split('\n').find((l) => l.startsWith(`${p.sha} `));
    if (line) toQa.push(Number(line.split(' ')[1]) - p.at);
    else if (lastOf.get(p.app) === p) lost++;
  }

  // Takeovers: pause the server running a slow build, then one running a slow deployment.
  const events = (type: string) => api<GantryEvent[]>('GET', `/api/events?type=${type}&limit=1000`);
  const pidOf = (id: unknown) => Number(String(id).split(':')[1]);
  const takeover = async (kind: 'build' | 'deploy'): Promise<number> => {
    const flag = join(cluster, kind === 'build' ? 'slow-build' : 'slow-deploy');
    await writeFile(flag, '');
    const app = apps[0]!;
    await writeFile(join(app.work, 'VERSION'), `${++app.n}\n`);
    await git(['commit', '--quiet', '-am', `slow ${kind}`], app.work);
    await git(['push', '--quiet', 'origin', 'main'], app.work);
    const sha = (await git(['rev-parse', 'HEAD'], app.work)).stdout.trim();
    await api('POST', `/api/apps/${app.name}/sync`);
    const startType = kind === 'build' ? 'build.started' : 'deployment.started';
    let started: GantryEvent | undefined;
    const asked = Date.now();
    while (!started) {
      started = (await events(startType)).find((e) => e.data.sha === sha);
      if (!started && Date.now() - asked > 120_000) throw new Error(`the slow ${kind} never started`);
      await sleep(100);
    }
    const victim = members.find(
      (m) => m.child.pid === pidOf(kind === 'build' ? started!.data.runner : started!.data.server),
    )!;
    victim.paused = true;
    victim.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    // Taken over: the build's next attempt is queued; the deployment is recorded interrupted (before
    // the environment is made to serve its last healthy release again).
    for (;;) {
      const done =
        kind === 'build'
          ? (await events('build.requeued').catch(() => [])).some(
              (x) => x.data.interrupted === started!.subject,
            )
          : (await api<Deployment>('GET', `/api/deployments/${started!.subject}`).catch(() => null))
              ?.status === 'interrupted';
      if (done) break;
      if (Date.now() - stoppedAt > 120_000) throw new Error(`no takeover of the ${kind} in 2 minutes`);
      await sleep(100);
    }
    const ms = Date.now() - stoppedAt;
    await import('node:fs/promises').then((fs) => fs.rm(flag, { force: true }));
    victim.child.kill('SIGKILL');
    return ms;
  };
  const buildTakeoverMs = await takeover('build');
  const deployTakeoverMs = await takeover('deploy');

  return {
    servers: 3,
    apps: opts.apps,
    pushes: opts.pushes,
    pushEveryMs: opts.pushEveryMs,
    queueWaitP50: Math.round(percentile(waits, 50)),
    queueWaitP95: Math.round(percentile(waits, 95)),
    pushToQaP50: Math.round(percentile(toQa, 50)),
    pushToQaP95: Math.round(percentile(toQa, 95)),
    apiP99: Math.round(percentile(apiMs, 99)),
    streams: perServer * 3 - opened.failed,
    pollers: opts.pollers,
    pollIntervalMs,
    streamsFailed: opened.failed,
    pollsFailed: polled.failed,
    pollP50: Math.round(percentile(polled.ms, 50)),
    pollP99: Math.round(percentile(polled.ms, 99)),
    polls: polled.ms.length,
    toggleChanges: toggleLast.length,
    toggleAllUpdatedP50: Math.round(percentile(toggleLast, 50)),
    toggleAllUpdatedMax: Math.round(Math.max(0, ...toggleLast)),
    duplicatedBuilds,
    duplicatedDeployments,
    lostPushes: lost,
    buildTakeoverMs,
    deployTakeoverMs,
  };
}

/** Rows of the summary table (bench/report.ts). */
export function scaleOutRows(s: ScaleOutResults): string[] {
  const load = `${s.servers} servers on one PostgreSQL, ${s.apps} apps, a push every ${s.pushEveryMs / 1000} s (${s.pushes} pushes)`;
  const ok = (good: boolean) => (good ? '✅' : '❌');
  return [
    `| ${load}: build queue wait, p50 / p95 | ${s.queueWaitP50} / ${s.queueWaitP95} ms | record |`,
    `| ${load}: push → QA serving it, p50 / p95 | ${s.pushToQaP50} / ${s.pushToQaP95} ms | < 1 s ${ok(s.pushToQaP95 < 1000)} |`,
    `| ${load}: \`GET /api/status\` p99 meanwhile | ${s.apiP99} ms | record |`,
    `| ${load}: ${s.pollers.toLocaleString('en')} polling SDK clients (every ${s.pollIntervalMs / 1000} s, ETag): \`GET /api/client/features\` p50 / p99 of ${s.polls.toLocaleString('en')} polls | ${s.pollP50} / ${s.pollP99} ms${s.pollsFailed ? `, ${s.pollsFailed} failed` : ''} | record |`,
    `| ${load}: toggle change → all ${s.streams.toLocaleString('en')} streaming SDK clients updated, median / max of ${s.toggleChanges} changes | ${s.toggleAllUpdatedP50} / ${s.toggleAllUpdatedMax} ms${s.streamsFailed ? `; ${s.streamsFailed} could not connect` : ''} | < 1 s ${ok(s.toggleChanges > 0 && s.toggleAllUpdatedMax < 1000 && s.streamsFailed === 0)} |`,
    `| ${load}: builds or deployments done twice, pushes lost | ${s.duplicatedBuilds} / ${s.duplicatedDeployments} / ${s.lostPushes} | 0 ${ok(s.duplicatedBuilds + s.duplicatedDeployments + s.lostPushes === 0)} |`,
    `| a server paused mid-build (SIGSTOP) → another takes the build over | ${(s.buildTakeoverMs / 1000).toFixed(1)} s | < 15 s ${ok(s.buildTakeoverMs < 15_000)} |`,
    `| a server paused mid-deployment (SIGSTOP) → another takes the environment over | ${(s.deployTakeoverMs / 1000).toFixed(1)} s | < 15 s ${ok(s.deployTakeoverMs < 15_000)} |`,
  ];
}
