import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Build, Deployment, GantryEvent } from '@gantry/contracts';
import pg from 'pg';
import { freePort } from '../packages/server/src/drivers/process/free-port.js';
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
  opts: { apps: number; pushes: number; pushEveryMs: number },
): Promise<ScaleOutResults> {
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
    `| ${load}: builds or deployments done twice, pushes lost | ${s.duplicatedBuilds} / ${s.duplicatedDeployments} / ${s.lostPushes} | 0 ${ok(s.duplicatedBuilds + s.duplicatedDeployments + s.lostPushes === 0)} |`,
    `| a server paused mid-build (SIGSTOP) → another takes the build over | ${(s.buildTakeoverMs / 1000).toFixed(1)} s | < 15 s ${ok(s.buildTakeoverMs < 15_000)} |`,
    `| a server paused mid-deployment (SIGSTOP) → another takes the environment over | ${(s.deployTakeoverMs / 1000).toFixed(1)} s | < 15 s ${ok(s.deployTakeoverMs < 15_000)} |`,
  ];
}
