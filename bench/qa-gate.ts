import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CheckRun, Deployment, GantryEvent, Revert } from '@gantry/contracts';
import { freePortsBelowEphemeral } from '../packages/cli/src/demo/demo-ports.js';
import { type BenchServer, git, median, Scope, sleep, startBenchServer, within } from './support.js';

export interface QaGateBench {
  /** A failing check's last run ended → the previous release answers every request (probed every 5 ms). */
  rollback: {
    runs: number;
    samplesMs: number[];
    medianMs: number;
    maxMs: number;
    goalMs: number;
    meetsGoal: boolean;
  };
  /** `git push` of a bad commit returned → the revert is on main, minus the time the checks themselves ran. */
  revert: {
    runs: number;
    totalMedianMs: number;
    checksMedianMs: number;
    overheadSamplesMs: number[];
    overheadMedianMs: number;
    overheadMaxMs: number;
    goalMs: number;
    meetsGoal: boolean;
  };
  /** Innocent commits whose only check fails at random: what the retry policy predicts against what happened. */
  flaky: {
    runs: number;
    failRate: number;
    retries: number;
    checkFailedSeen: number;
    checkFailedPredicted: number;
    wrongRevertsSeen: number;
    wrongRevertsPredicted: number;
    /** Reverts that ended skipped because the blamed commit passed when tried again after the guard. */
    skippedAsFlaky: number;
    /** Skipped for another reason (the guard failed too: QA looked broken). */
    skippedOther: number;
    meetsGoal: boolean;
  };
}

const APP_JS = `import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
const version = readFileSync(new URL('./VERSION', import.meta.url), 'utf8').trim();
createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok');
  res.statusCode = version.startsWith('bad') ? 500 : 200;
  res.end(version);
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

interface QaApp {
  bench: BenchServer;
  port: number;
  /** Commits VERSION (and more files), pushes, tells the server; the SHA and when the push returned. */
  push(version: string, files?: Record<string, string>): Promise<{ sha: string; pushedAt: number }>;
  deploymentOf(sha: string): Promise<Deployment>;
  settledChecks(id: string): Promise<{ deployment: Deployment; runs: CheckRun[] }>;
}

async function qaApp(
  scope: Scope,
  name: string,
  checks: string,
  revert: string,
  extra: Record<string, string> = {},
): Promise<QaApp> {
  const bench = await startBenchServer(scope);
  scope.defer(() =>
    within(bench.server.gantry.deployer.stopAllEnvironments(), 60_000, 'stopping the environments'),
  );
  const port = (await freePortsBelowEphemeral(1))[0]!;
  const root = await scope.tempDir('qa-git');
  const bare = join(root, 'repo.git');
  const work = join(root, 'work');
  await git(['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  await git(['clone', '--quiet', bare, work]);
  const write = async (path: string, text: string) => {
    await mkdir(dirname(join(work, path)), { recursive: true });
    await writeFile(join(work, path), text);
  };
  await write(
    'gantry.yaml',
    `build:
  steps: [{ name: package, run: "mkdir -p dist && cp app.js VERSION dist/" }]
  artifact: { path: dist }
run: { command: node app.js, health: { path: /healthz, timeout: 5s } }
environments:
  qa: { auto_deploy: true, port: ${port}, checks: ${checks} }
revert: { on_check_failure: ${revert} }
`,
  );
  await write('app.js', APP_JS);
  for (const [p, t] of Object.entries(extra)) await write(p, t);
  let added = false;
  const push: QaApp['push'] = async (version, files = {}) => {
    await git(['pull', '--quiet', '--rebase', 'origin', 'main'], work).catch(() => undefined);
    await write('VERSION', `${version}\n`);
    for (const [p, t] of Object.entries(files)) await write(p, t);
    await git(['add', '--all'], work);
    await git(['commit', '--quiet', '--no-verify', '-m', version], work);
    const sha = (await git(['rev-parse', 'HEAD'], work)).stdout.trim();
    await git(['push', '--quiet', 'origin', 'main'], work);
    const pushedAt = Date.now();
    if (added) await bench.api('POST', `/api/apps/${name}/sync`);
    return { sha, pushedAt };
  };
  const until = async <T>(probe: () => Promise<T | undefined>, what: string, ms = 120_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(25);
    }
  };
  const first = await push('v0');
  await bench.api('POST', '/api/apps', { name, repoUrl: bare });
  added = true;
  const app: QaApp = {
    bench,
    port,
    push,
    deploymentOf: (sha) =>
      until(
        async () => {
          const list = await bench.api<Deployment[]>('GET', `/api/deployments?app=${name}&env=qa&limit=20`);
          return list.find(
            (d) => d.sha === sha && d.trigger === 'auto' && d.status !== 'queued' && d.status !== 'running',
          );
        },
        `the deployment of ${sha.slice(0, 7)}`,
      ),
    settledChecks: (id) =>
      until(async () => {
        const c = await bench.api<{ deployment: Deployment; runs: CheckRun[] }>(
          'GET',
          `/api/deployments/${id}/checks`,
        );
        return c.deployment.verification && c.deployment.verification !== 'verifying' ? c : undefined;
      }, `the checks of ${id}`),
  };
  await app.settledChecks((await app.deploymentOf(first.sha)).id);
  return app;
}

/** Answers seen on the environment's port, probed every `everyMs`: [time, body]. */
function probe(port: number, everyMs = 5) {
  const seen: [number, string][] = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      const body = await fetch(`http://127.0.0.1:${port}/`)
        .then((r) => r.text())
        .catch(() => '');
      seen.push([Date.now(), body.trim()]);
      await sleep(everyMs);
    }
  })();
  return {
    seen,
    async stop() {
      on = false;
      await loop;
    },
  };
}

async function benchRollback(runs: number): Promise<QaGateBench['rollback']> {
  const scope = new Scope();
  try {
    const app = await qaApp(scope, 'qa-rollback', '[{ name: home, http: { path: / }, retries: 0 }]', 'off');
    const samples: number[] = [];
    for (let i = 1; i <= runs; i++) {
      const good = await app.push(`v${i}`);
      await app.settledChecks((await app.deploymentOf(good.sha)).id);
      const watch = probe(app.port);
      const bad = await app.push(`bad${i}`);
      const failed = await app.settledChecks((await app.deploymentOf(bad.sha)).id);
      if (failed.deployment.verification !== 'check_failed') throw new Error(`bad${i} passed its check`);
      const detected = Date.parse(failed.runs.at(-1)!.finishedAt!);
      const back = await (async () => {
        for (;;) {
          const hit = watch.seen.find(([t, body]) => t >= detected && body === `v${i}`);
          if (hit) return hit[0];
          await sleep(10);
        }
      })();
      await watch.stop();
      samples.push(back - detected);
    }
    const goalMs = 1_000;
    return {
      runs,
      samplesMs: samples,
      medianMs: median(samples),
      maxMs: Math.max(...samples),
      goalMs,
      meetsGoal: median(samples) < goalMs,
    };
  } finally {
    await scope.close();
  }
}

async function benchRevert(runs: number): Promise<QaGateBench['revert']> {
  const scope = new Scope();
  try {
    const app = await qaApp(scope, 'qa-revert', '[{ name: home, http: { path: / } }]', 'auto');
    const totals: number[] = [];
    const checks: number[] = [];
    const overheads: number[] = [];
    for (let i = 1; i <= runs; i++) {
      const bad = await app.push(`bad${i}`);
      const r = await within(
        (async () => {
          for (;;) {
            const [last] = await app.bench.api<Revert[]>('GET', '/api/reverts?app=qa-revert&limit=1');
            if (last?.sha === bad.sha && last.status === 'reverted') return last;
            if (last?.sha === bad.sha && ['skipped', 'failed', 'proposed'].includes(last.status))
              throw new Error(`the revert of bad${i} ended ${last.status}: ${last.why}`);
            await sleep(20);
          }
        })(),
        120_000,
        `the revert of bad${i}`,
      );
      const [pushed] = await app.bench.api<GantryEvent[]>(
        'GET',
        `/api/events?type=revert.pushed&subject=${r.id}`,
      );
      const total = Date.parse(pushed!.createdAt) - bad.pushedAt;
      // Every check run of the deployments the revert waited on: the failed one, the guard, the confirmation.
      const ids = new Set([
        r.deploymentId,
        ...r.steps.map((s) => s.deploymentId).filter((x): x is string => !!x),
      ]);
      const qa = await app.bench.api<Deployment[]>('GET', '/api/deployments?app=qa-revert&env=qa&limit=50');
      for (const d of qa) if (d.id > r.deploymentId && d.trigger === 'bisect') ids.add(d.id);
      let checkMs = 0;
      for (const id of ids) {
        const c = await app.bench.api<{ runs: CheckRun[] }>('GET', `/api/deployments/${id}/checks`);
        checkMs += c.runs.reduce((sum, run) => sum + (run.ms ?? 0), 0);
      }
      totals.push(total);
      checks.push(checkMs);
      overheads.push(total - checkMs);
      // the revert is deployed and verified before the next bad commit
      await app.settledChecks((await app.deploymentOf(r.revertSha!)).id);
    }
    const goalMs = 5_000;
    return {
      runs,
      totalMedianMs: median(totals),
      checksMedianMs: median(checks),
      overheadSamplesMs: overheads,
      overheadMedianMs: median(overheads),
      overheadMaxMs: Math.max(...overheads),
      goalMs,
      meetsGoal: median(overheads) < goalMs,
    };
  } finally {
    await scope.close();
  }
}

async function benchFlaky(runs: number, failRate: number): Promise<QaGateBench['flaky']> {
  const scope = new Scope();
  const retries = 1;
  try {
    const check = `node -e "process.exit(Math.random() < ${failRate} ? 1 : 0)"`;
    const app = await qaApp(
      scope,
      'qa-flaky',
      `[{ name: flaky, run: 'sh flaky.sh', retries: ${retries} }]`,
      'auto',
      { 'flaky.sh': `#!/bin/sh\n${check}\n` },
    );
    let checkFailed = 0;
    for (let i = 1; i <= runs; i++) {
      const innocent = await app.push(`v${i}`);
      const c = await app.settledChecks((await app.deploymentOf(innocent.sha)).id);
      if (c.deployment.verification === 'check_failed') {
        checkFailed++;
        await within(
          (async () => {
            for (;;) {
              const [last] = await app.bench.api<Revert[]>('GET', '/api/reverts?app=qa-flaky&limit=1');
              if (last?.sha === innocent.sha && !['guarding', 'bisecting', 'reverting'].includes(last.status))
                return;
              await sleep(50);
            }
          })(),
          180_000,
          `the revert decision on v${i}`,
        );
      }
    }
    const all = await app.bench.api<Revert[]>('GET', '/api/reverts?app=qa-flaky&limit=500');
    const wrong = all.filter((r) => r.status === 'reverted' || r.status === 'proposed').length;
    // A run fails its check when the check fails retries+1 times in a row; a wrong revert also needs the
    // guard to pass and the commit to fail again that way after it (A/B/A).
    const pFail = failRate ** (retries + 1);
    const pWrong = pFail * (1 - pFail) * pFail;
    return {
      runs,
      failRate,
      retries,
      checkFailedSeen: checkFailed,
      checkFailedPredicted: Number((runs * pFail).toFixed(2)),
      wrongRevertsSeen: wrong,
      wrongRevertsPredicted: Number((runs * pWrong).toFixed(3)),
      skippedAsFlaky: all.filter(
        (r) =>
          r.status === 'skipped' &&
          r.steps.some((st) => st.step === 'confirm' && st.result === 'passes its checks'),
      ).length,
      skippedOther: all.filter(
        (r) =>
          r.status === 'skipped' &&
          !r.steps.some((st) => st.step === 'confirm' && st.result === 'passes its checks'),
      ).length,
      meetsGoal: wrong <= Math.max(0, Math.round(runs * pWrong)),
    };
  } finally {
    await scope.close();
  }
}

export async function benchQaGate(
  opts: { rollbacks?: number; reverts?: number; flakyRuns?: number } = {},
): Promise<QaGateBench> {
  return {
    rollback: await benchRollback(opts.rollbacks ?? 10),
    revert: await benchRevert(opts.reverts ?? 5),
    flaky: await benchFlaky(opts.flakyRuns ?? 50, 0.2),
  };
}
