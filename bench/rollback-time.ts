import { spawn } from 'node:child_process';
import { Agent } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { Deployment } from '@gantry/contracts';
import { type AppBoot, measureAppBoot } from './app-boot.js';
import { phaseMedians } from './deploy-phases.js';
import { createDeployBench, type DeployBench, type DeployBenchOptions } from './deploy-support.js';
import { untilAllServe } from './http-probe.js';
import { median, percentile, Scope, sleep } from './support.js';

export interface RollbackSeries {
  env: string;
  standby: number;
  rollbacks: number;
  /** From the moment `POST …/rollback` returned to the first of STREAK answers in a row from the old release. */
  samplesMs: number[];
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  /** The POST itself (recording the deployment), median. */
  requestMedianMs: number;
  /** The deployment's own startedAt → finishedAt (drain and cleanup included), median. */
  deploymentMedianMs: number;
  kinds: Record<string, number>;
  phasesMs: Record<string, number>;
}

export interface RollbackTime {
  streak: number;
  warm: RollbackSeries;
  /**
   * The same warm rollback in a protected environment: two approvals bound to the digest and a
   * freeze window on for the whole run (rollbacks pass both; what they cost, side by side).
   */
  protected: RollbackSeries;
  /** protected / warm, medians and p95s. */
  protectedRatio: { median: number; p95: number };
  cold: RollbackSeries;
  /**
   * As a person sees it: `gantry rollback <env> --yes` typed (the compiled CLI spawned) → the old
   * release serving (the first of STREAK answers in a row), in the warm environment; and until the
   * CLI exits, having followed the deployment to its end.
   */
  typed: {
    rollbacks: number;
    medianMs: number;
    p95Ms: number;
    maxMs: number;
    exitMedianMs: number;
    goalMs: number;
  };
  boot: AppBoot;
  /** Cold rollback minus the app's own boot (medians; and p95 minus the boot median). */
  coldOverheadMedianMs: number;
  coldOverheadP95Ms: number;
  warmGoalMs: number;
  coldOverheadGoalMs: number;
  warmMeetsGoal: boolean;
  coldMeetsGoal: boolean;
}

export interface RollbackOptions {
  /** How the app is built and run (default: the process driver). */
  deploy?: DeployBenchOptions;
  /** The release's own start without Gantry, which a cold rollback cannot avoid; default measureAppBoot. */
  boot?: (scope: Scope, d: DeployBench) => Promise<AppBoot>;
}

const STREAK = 20;
const WARM_GOAL_MS = 1_000;
const COLD_OVERHEAD_GOAL_MS = 300;
const SETTLE_MS = 50;

/**
 * Rolls one environment with a warm standby (`standby: 1`, the default) and one without
 * (`standby: 0`, so the old release must boot again) back and forth between two releases, and
 * times each rollback from the accepted request to the old release answering every request.
 */
export async function benchRollbackTime(
  rollbacks = 20,
  coldRollbacks = 20,
  opts: RollbackOptions = {},
): Promise<RollbackTime> {
  const scope = new Scope();
  try {
    const d = await createDeployBench(
      scope,
      'bench-rollback',
      [
        { name: 'warm' },
        {
          name: 'protected',
          extra: `approvals: { required: 2, from: [alice, bob] }, freeze: [{ from: "2000-01-01T00:00:00Z", until: "2100-01-01T00:00:00Z", reason: bench }]`,
        },
        { name: 'cold', standby: 0 },
      ],
      2,
      opts.deploy,
    );
    for (const env of ['warm', 'protected', 'cold']) {
      // The protected environment is frozen and wants approvals: the releases get there by break-glass.
      const body =
        env === 'protected' ? { override: true, reason: 'bench: set up the releases to roll between' } : {};
      for (const sha of d.shas) await d.deploy(env, sha, body);
    }
    const warm = await series(d, 'warm', 1, rollbacks);
    const guarded = await series(d, 'protected', 1, rollbacks);
    const cold = await series(d, 'cold', 0, coldRollbacks);
    const typed = await typedSeries(d, 'warm', rollbacks);
    const boot = await (opts.boot ?? ((s) => measureAppBoot(s, 10)))(scope, d);
    const coldOverheadMedianMs = cold.medianMs - boot.medianMs;
    return {
      streak: STREAK,
      warm,
      protected: guarded,
      protectedRatio: { median: guarded.medianMs / warm.medianMs, p95: guarded.p95Ms / warm.p95Ms },
      cold,
      typed,
      boot,
      coldOverheadMedianMs,
      coldOverheadP95Ms: cold.p95Ms - boot.medianMs,
      warmGoalMs: WARM_GOAL_MS,
      coldOverheadGoalMs: COLD_OVERHEAD_GOAL_MS,
      warmMeetsGoal: warm.p95Ms < WARM_GOAL_MS,
      coldMeetsGoal: coldOverheadMedianMs < COLD_OVERHEAD_GOAL_MS,
    };
  } finally {
    await scope.close();
  }
}

async function series(d: DeployBench, env: string, standby: number, n: number): Promise<RollbackSeries> {
  const port = d.ports[env]!;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  const requests: number[] = [];
  const done: Deployment[] = [];
  try {
    // Each rollback goes back to the release the one before left: a plain rollback never returns to a
    // release rolled back from, so from the second on the target is named (`gantry rollback --to`).
    let back: string | null = null;
    for (let i = 0; i < n; i++) {
      const asked = performance.now();
      const rb: Deployment = await d.bench.api<Deployment>(
        'POST',
        `/api/apps/${d.app}/environments/${env}/rollback`,
        back ? { to: back } : {},
      );
      back = rb.previousSha;
      const accepted = performance.now();
      const servedAt = await untilAllServe(agent, port, d.versionOf(rb.sha), STREAK);
      const finished = await d.waitDone(rb.id);
      if (finished.status !== 'succeeded')
        throw new Error(`rollback ${rb.id} ${finished.status}: ${finished.error}`);
      samples.push(servedAt - accepted);
      requests.push(accepted - asked);
      done.push(finished);
      await sleep(SETTLE_MS);
    }
  } finally {
    agent.destroy();
  }
  const kinds: Record<string, number> = {};
  for (const x of done) kinds[x.kind ?? 'none'] = (kinds[x.kind ?? 'none'] ?? 0) + 1;
  return {
    env,
    standby,
    rollbacks: n,
    samplesMs: samples,
    medianMs: median(samples),
    p95Ms: percentile(samples, 95),
    maxMs: Math.max(...samples),
    requestMedianMs: median(requests),
    deploymentMedianMs: median(done.map((x) => Date.parse(x.finishedAt!) - Date.parse(x.startedAt!))),
    kinds,
    phasesMs: phaseMedians(done),
  };
}

const CLI = new URL('../packages/cli/bin/gantry.js', import.meta.url).pathname;
const TYPED_GOAL_MS = 100;

/** `gantry rollback <env> --yes [--to <sha>]` as typed: spawn → the old release serving, and → exit. */
async function typedSeries(d: DeployBench, env: string, n: number): Promise<RollbackTime['typed']> {
  const port = d.ports[env]!;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const serving: number[] = [];
  const exits: number[] = [];
  const cliEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  cliEnv.GANTRY_URL = d.bench.server.url;
  cliEnv.GANTRY_TOKEN = d.bench.token;
  try {
    const states = await d.bench.api<{ env: string; current: { sha: string } | null }[]>(
      'GET',
      `/api/apps/${d.app}/environments`,
    );
    const current = states.find((s) => s.env === env)?.current?.sha;
    let back: string | null = d.shas.find((s) => s !== current) ?? null;
    for (let i = 0; i < n; i++) {
      const target = back!;
      const started = performance.now();
      const child = spawn(
        process.execPath,
        [CLI, 'rollback', env, '--app', d.app, '--yes', '--to', target, '--json'],
        { env: cliEnv, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      const exited = new Promise<number>((resolve) =>
        child.once('exit', (code) => resolve(code === 0 ? performance.now() : Number.NaN)),
      );
      const servedAt = await untilAllServe(agent, port, d.versionOf(target), STREAK);
      const exitAt = await exited;
      if (Number.isNaN(exitAt)) throw new Error(`gantry rollback failed: ${out}`);
      serving.push(servedAt - started);
      exits.push(exitAt - started);
      back = (JSON.parse(out) as Deployment).previousSha;
      await sleep(SETTLE_MS);
    }
  } finally {
    agent.destroy();
  }
  return {
    rollbacks: n,
    medianMs: median(serving),
    p95Ms: percentile(serving, 95),
    maxMs: Math.max(...serving),
    exitMedianMs: median(exits),
    goalMs: TYPED_GOAL_MS,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchRollbackTime(Number(process.argv[2] ?? 20))));
}
