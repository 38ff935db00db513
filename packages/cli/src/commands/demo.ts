import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Deployment, Revert } from '@gantry/contracts';
import { installPostReceiveHook, loadServerConfig, type RunningServer, startServer } from '@gantry/server';
import pino from 'pino';
import { ApiClient } from '../api-client.js';
import { CliError } from '../context.js';
import { tamperedAuditCopy } from '../demo/demo-audit.js';
import {
  type DemoContainerOptions,
  type DemoContainers,
  prepareDemoContainers,
} from '../demo/demo-containers.js';
import { commitFiles, git, push } from '../demo/demo-git.js';
import { pickDemoPorts } from '../demo/demo-ports.js';
import { ms, Timeline } from '../demo/demo-timeline.js';
import {
  httpGet,
  waitFor,
  waitForBuildOf,
  waitForDeploymentOf,
  waitUntilServing,
} from '../demo/demo-waits.js';
import {
  DEMO_ENVIRONMENTS,
  DEMO_HEALTH_TIMEOUT_S,
  type DemoPorts,
  sampleAppFiles,
  sampleVersion,
} from '../demo/sample-app.js';
import { short } from '../output.js';
import { auditVerify } from './audit.js';
import { followBuild } from './build.js';
import { followDeployment, statusCommand } from './deploy.js';
import { metricsCommand, reportCommand } from './metrics.js';

const APP = 'hello';
/** Where the demo writes its metrics report: the current directory, which outlives the demo. */
export const REPORT_FILE = 'gantry-demo-report.html';

function say(text: string): void {
  process.stdout.write(`\n▸ ${text}\n`);
}

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

interface Demo {
  api: ApiClient;
  work: string;
  ports: DemoPorts;
  timeline: Timeline;
  /** With `--containers`: every release is an OCI image run by the container driver. */
  containers?: DemoContainers;
}

/** The sample app at `version`, as a tarball app or (with --containers) an image app. */
function appFiles(
  d: Demo,
  version: number,
  variant: { broken?: boolean; rude?: boolean } = {},
): Record<string, string> {
  return sampleAppFiles(version, d.ports, {
    ...variant,
    ...(d.containers && { image: { base: d.containers.base } }),
  });
}

const urlOf = (d: Demo, env: keyof DemoPorts) => `http://127.0.0.1:${d.ports[env]}/`;

/**
 * The whole flow on a sample app, with embedded defaults: a bare repository, a server on SQLite,
 * builds, auto-deploy to QA, promotion to staging and production by pushed tags, a broken commit
 * that QA refuses, and a rollback of production. Everything lives in one temp folder.
 */
export async function demoCommand(
  opts: { keep?: boolean; containers?: boolean } & DemoContainerOptions,
): Promise<void> {
  const started = performance.now();
  // In a terminal the demo stays up at the end, so its state can be explored in the web console.
  const keep = opts.keep ?? Boolean(process.stdin.isTTY && process.stdout.isTTY);
  // Checked before anything is made: an engine, a registry and a base image.
  const containers = opts.containers ? await prepareDemoContainers(opts) : undefined;
  const root = await mkdtemp(join(tmpdir(), 'gantry-demo-'));
  const bare = join(root, 'hello.git');
  const work = join(root, 'hello');
  await mkdir(work);
  const ports = await pickDemoPorts();
  say(`Sample app "hello" (a Node HTTP service with /healthz and a test) in ${root}`);
  if (containers) {
    out(
      `Each release is an OCI image: the app's dist/ on ${containers.base}, built by ${containers.engine},\n` +
        `pushed to ${containers.registry}${containers.insecure ? ' (plain HTTP)' : ''} and run by the container driver, always by digest.`,
    );
  }
  await git(root, 'init', '--quiet', '--bare', bare);
  await git(work, 'init', '--quiet');
  await git(work, 'remote', 'add', 'origin', bare);

  const { config, errors } = loadServerConfig(
    { dataDir: join(root, 'data'), port: 0, defaultPollIntervalMs: 0 },
    containers?.serverEnv ?? {},
  );
  if (errors.length) throw new CliError(errors.join('\n'));
  const server = await startServer(config, { logger: pino({ level: 'error' }) });
  process.env.GANTRY_URL = server.url;
  process.env.GANTRY_TOKEN = server.adminToken;
  const api = new ApiClient({ url: server.url, token: server.adminToken!, source: 'demo' });
  say(`Gantry server on ${server.url} (SQLite in ${config.dataDir})`);
  out(`Web console: ${consoleLink(server)}  (signs in with the demo's admin token)`);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= stopEverything(server);
    return stopping;
  };
  const onSignal = () => {
    process.stderr.write(
      `\ninterrupted: stopping the environments and the server; the files stay in ${root}\n`,
    );
    void stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let finished = false;
  let report: string | undefined;
  try {
    const demo: Demo = { api, work, ports, timeline: new Timeline(), containers };
    await firstRelease(demo, bare, server);
    const v1 = await git(work, 'rev-parse', 'HEAD');
    await promote(demo, 'staging', 1);
    await promote(demo, 'production', 1);

    await pushAndBuild(demo, 2, appFiles(demo, 2), 'Say hello from version 2');
    await followQa(demo, 2);
    await promote(demo, 'staging', 2);
    await promote(demo, 'production', 2);

    await qaGate(demo);
    await brokenCommit(demo);
    const rolledBack = await rollbackProduction(demo, v1);
    await incident(demo, rolledBack);

    say('Environments');
    for (const env of DEMO_ENVIRONMENTS) {
      const answer = await httpGet(urlOf(demo, env));
      out(`${env.padEnd(10)}  ${urlOf(demo, env).padEnd(24)}  ${answer.body}`);
    }
    say('How long each step took');
    demo.timeline.add('the demo so far (from its start)', performance.now() - started);
    demo.timeline.print();
    say('gantry status');
    await statusCommand({});
    say('gantry metrics   (production, the last 28 days; definitions in docs/metrics.md)');
    await metricsCommand({ env: 'production' });
    // In the current directory: the temp folder is removed at the end, the report is worth keeping.
    say(`gantry report --html ${REPORT_FILE}`);
    await reportCommand({ env: 'production', html: REPORT_FILE });
    report = resolve(REPORT_FILE);
    say('gantry audit verify   (every change made through the API, in a hash chain; docs/audit.md)');
    await auditVerify({});

    if (keep) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      say('The web console');
      out(
        `Open ${consoleLink(server)}\n` +
          `to see the board, the builds and their logs, the deployments, toggles, releases, metrics and the incident.\n` +
          `Server and environments keep running on ${server.url}; GANTRY_URL=${server.url} GANTRY_TOKEN=${server.adminToken}` +
          '\nCtrl-C stops them.',
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
    finished = true;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stop();
    if (!finished) process.stderr.write(`The demo's repositories, data and logs are in ${root}\n`);
  }
  if (finished) {
    say('gantry audit verify, on a copy of the data with one audit row changed by hand');
    const broken = await tamperedAuditCopy(config.dataDir, root, server.adminToken!);
    out(`the audit log is broken at row ${broken.seq}: ${broken.why} (the demo's own log is untouched)`);
  }
  if (!keep) await rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  say(
    `Stopped the environments and the server${keep ? `; the files are in ${root}` : `; removed the temp folder ${root}`}.` +
      (report ? `\nThe metrics report stays in ${report} (open it in a browser).` : '') +
      // `gantry` is not on PATH after `npm ci`; npx finds the workspace's bin from the clone.
      '\nNext: `npx gantry server` (from this clone; `gantry server` once gantry is on your PATH), then `npx gantry --help`.',
  );
}

/**
 * The console's address with the admin token in the fragment: the browser never sends a fragment to
 * the server, and the sign-in page exchanges it for a session cookie and removes it from the address.
 */
function consoleLink(server: RunningServer): string {
  return `${server.url}/#token=${server.adminToken}`;
}

async function stopEverything(server: RunningServer): Promise<void> {
  await server.gantry.deployer.stopAllEnvironments().catch((err: unknown) => {
    process.stderr.write(`could not stop every environment: ${err instanceof Error ? err.message : err}\n`);
  });
  await server.stop();
}

/** Version 1 goes in before the app is added; adding it builds the head, which QA deploys on its own. */
async function firstRelease(d: Demo, bare: string, server: RunningServer): Promise<void> {
  await commitFiles(d.work, appFiles(d, 1), 'Sample service with /healthz');
  await git(d.work, 'push', '--quiet', 'origin', 'main');
  say(
    `gantry.yaml declares three environments: qa (auto_deploy) on :${d.ports.qa}, ` +
      `staging (promote_from qa) on :${d.ports.staging}, production (promote_from staging, protected) on :${d.ports.production}`,
  );
  say(`gantry app add ${APP} <repo>   (mirrors the repository and builds its head)`);
  const app = await d.api.post<{ headSha: string; buildIds: string[] }>('/api/apps', {
    name: APP,
    repoUrl: bare,
  });
  const build = await followBuild(d.api, app.buildIds[0]!, true);
  if (build.status !== 'succeeded') throw new CliError(`the first build ${build.status}: ${build.error}`);
  d.timeline.build(`build ${sampleVersion(1)}`, build);

  say(`gantry hook install <repo> --app ${APP}   (pushes of commits and tags reach Gantry at once)`);
  const { token } = await d.api.post<{ token: string }>(`/api/apps/${APP}/hook-token`);
  await installPostReceiveHook(bare, { serverUrl: server.url, app: APP, token });
  await followQa(d, 1);
}

async function pushAndBuild(d: Demo, version: number, files: Record<string, string>, message: string) {
  const sha = await commitFiles(d.work, files, message);
  say(`git commit -m "${message}" && git push   (${short(sha)})`);
  const pushed = await push(d.work, 'main');
  out(pushed.output);
  const queued = await waitForBuildOf(d.api, APP, sha);
  out(
    `build ${queued.id} queued ${ms(Math.max(0, Date.parse(queued.queuedAt) - pushed.returnedAt))} after git push returned`,
  );
  const build = await followBuild(d.api, queued.id, true);
  if (build.status !== 'succeeded')
    throw new CliError(`the build of ${short(sha)} ${build.status}: ${build.error}`);
  d.timeline.build(`build ${sampleVersion(version)}`, build);
  return sha;
}

/** Each successful build of main deploys to QA on its own. */
async function followQa(d: Demo, version: number): Promise<void> {
  const sha = await git(d.work, 'rev-parse', 'HEAD');
  say(`QA deploys ${short(sha)} on its own after the build (auto_deploy)`);
  const done = await follow(d, await waitForDeploymentOf(d.api, APP, 'qa', sha));
  if (done.status !== 'succeeded') throw new CliError(`QA did not take ${short(sha)}: ${done.error}`);
  d.timeline.deployment(`qa ← ${sampleVersion(version)} (auto)`, done);
  await show(d, 'qa');
}

/** Promotion is a pushed tag, as anyone with push access would do it; Gantry sees it through the hook. */
async function promote(d: Demo, env: 'staging' | 'production', version: number): Promise<void> {
  const tag = `deploy/${env}/v${version}`;
  const sha = await git(d.work, 'rev-parse', 'HEAD');
  say(`git tag -a ${tag} -m "Ship ${sampleVersion(version)}" && git push origin ${tag}`);
  await git(d.work, 'tag', '-a', tag, '-m', `Ship ${sampleVersion(version)}`);
  const pushed = await push(d.work, tag);
  out(pushed.output);
  const done = await follow(d, await waitForDeploymentOf(d.api, APP, env, sha));
  if (done.status !== 'succeeded') throw new CliError(`${env} did not take ${short(sha)}: ${done.error}`);
  const pushToDone = Date.parse(done.finishedAt!) - pushed.returnedAt;
  out(`tag push → ${env} serves ${sampleVersion(version)}: ${ms(pushToDone)}`);
  d.timeline.deployment(
    `${env} ← ${sampleVersion(version)} (tag)`,
    done,
    `tag push → done ${ms(pushToDone)}`,
  );
  await show(d, env);
}

async function brokenCommit(d: Demo): Promise<void> {
  const message = 'Read the greeting from greeting.txt';
  const sha = await pushAndBuild(d, 4, appFiles(d, 4, { broken: true }), message);
  say(
    `QA tries ${short(sha)}: its tests passed, but package copies no greeting.txt into the artifact, ` +
      `so /healthz answers 500; QA waits up to ${DEMO_HEALTH_TIMEOUT_S} s for it to get healthy`,
  );
  const done = await follow(d, await waitForDeploymentOf(d.api, APP, 'qa', sha));
  if (done.status !== 'failed')
    throw new CliError(`expected the broken commit to fail in QA, it ${done.status}`);
  out(`QA refused it:\n${(done.error ?? '').replace(/^/gm, '  ')}`);
  d.timeline.deployment(`qa ← ${sampleVersion(4)} (auto, broken)`, done);
  say('QA still serves the release before it; nothing changed for its users');
  const answer = await show(d, 'qa');
  if (!answer.includes(sampleVersion(2))) throw new CliError(`QA should still serve ${sampleVersion(2)}`);
}

/**
 * A commit that builds and is healthy but breaks the page: QA's check fails, QA rolls back on its
 * own, and Gantry reverts the commit on main (revert: auto); the revert reaches QA like any commit.
 */
async function qaGate(d: Demo): Promise<void> {
  const message = 'Greet with bye';
  const sha = await pushAndBuild(d, 3, appFiles(d, 3, { rude: true }), message);
  say(
    `QA deploys ${short(sha)}; its check "home" (GET / must contain "hello") fails, so QA rolls back on its own ` +
      'and Gantry reverts the commit it blames (revert: auto in gantry.yaml)',
  );
  const done = await follow(d, await waitForDeploymentOf(d.api, APP, 'qa', sha));
  d.timeline.deployment(`qa ← ${sampleVersion(3)} (auto, fails its check)`, done);
  const checks = await waitFor(async () => {
    const c = await d.api.get<{ deployment: Deployment; runs: { error: string | null }[] }>(
      `/api/deployments/${done.id}/checks`,
    );
    return c.deployment.verification && c.deployment.verification !== 'verifying' ? c : undefined;
  }, 'the checks of the commit');
  if (checks.deployment.verification !== 'check_failed')
    throw new CliError(
      `expected QA's check to fail on ${short(sha)}, it is ${checks.deployment.verification}`,
    );
  out(`gantry checks ${done.id}: ${checks.runs.at(-1)?.error} (after ${checks.runs.length} attempts)`);
  const revert = await waitFor(async () => {
    const [r] = await d.api.get<Revert[]>(`/api/reverts?app=${APP}&limit=1`);
    return r && r.sha === sha && !['guarding', 'bisecting', 'reverting'].includes(r.status) ? r : undefined;
  }, 'the revert');
  for (const step of revert.steps) out(`  ${step.step}: ${step.result}`);
  if (revert.status !== 'reverted' || !revert.revertSha)
    throw new CliError(`expected Gantry to revert ${short(sha)}, it ${revert.status}: ${revert.why}`);
  say(
    `gantry reverts   (Gantry pushed the revert ${short(revert.revertSha)} to main; QA builds and checks it)`,
  );
  await git(d.work, 'pull', '--quiet', '--rebase', 'origin', 'main');
  const back = await follow(d, await waitForDeploymentOf(d.api, APP, 'qa', revert.revertSha));
  if (back.status !== 'succeeded') throw new CliError(`QA did not take the revert: ${back.error}`);
  d.timeline.deployment(`qa ← revert of ${sampleVersion(3)} (auto)`, back);
  await show(d, 'qa');
}

/** Records what went wrong with the release that was rolled back, as an on-call engineer would. */
async function incident(d: Demo, deployment: Deployment): Promise<void> {
  say(`gantry incident open --env production --deployment ${deployment.id} --title "1.0.2 misbehaves"`);
  const inc = await d.api.post<{ id: string }>('/api/incidents', {
    app: APP,
    env: 'production',
    deploymentId: deployment.id,
    title: '1.0.2 misbehaves',
    actor: 'demo',
  });
  say(`gantry incident resolve ${inc.id}   (the rollback fixed it)`);
  await d.api.post(`/api/incidents/${inc.id}/resolve`, { actor: 'demo' });
  out('both count in the metrics: a failed deployment, a rollback, and the time it took to recover');
}

/** Rolls production back; returns the deployment it rolled back from. */
async function rollbackProduction(d: Demo, v1: string): Promise<Deployment> {
  const before = await d.api.get<Deployment[]>(
    `/api/deployments?app=${APP}&env=production&status=succeeded&limit=1`,
  );
  say('gantry rollback production --yes   (say 1.0.2 misbehaves in production)');
  const asked = performance.now();
  const rb = await d.api.post<Deployment>(`/api/apps/${APP}/environments/production/rollback`, {
    confirm: true,
    reason: 'demo: 1.0.2 misbehaves',
    actor: 'demo',
  });
  const accepted = performance.now();
  const served = await waitUntilServing(urlOf(d, 'production'), `version ${sampleVersion(1)}`);
  const done = await follow(d, rb);
  if (done.status !== 'succeeded' || done.sha !== v1) {
    throw new CliError(`the rollback of production ${done.status}: ${done.error}`);
  }
  out(
    `production answers ${sampleVersion(1)} ${ms(served - accepted)} after the rollback was accepted ` +
      `(the request itself took ${ms(accepted - asked)}; ${done.kind === 'switch' ? 'a switch to the warm standby' : done.kind})`,
  );
  d.timeline.deployment(
    `production ← ${sampleVersion(1)} (rollback)`,
    done,
    `accepted → serving ${ms(served - accepted)}`,
  );
  await show(d, 'production');
  return before[0]!;
}

async function follow(d: Demo, dep: Deployment): Promise<Deployment> {
  return followDeployment(d.api, dep.id, true);
}

async function show(d: Demo, env: keyof DemoPorts): Promise<string> {
  const answer = await httpGet(urlOf(d, env));
  out(`GET ${urlOf(d, env)} → ${answer.status} ${answer.body}`);
  return answer.body;
}
