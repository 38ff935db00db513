import { pathToFileURL } from 'node:url';
import type { Deployment } from '@gantry/contracts';
import { createDeployBench, type DeployBench, type DeployBenchOptions } from './deploy-support.js';
import { type LoadCounts, startLoad } from './load.js';
import { median, Scope, sleep } from './support.js';

export interface LoadRun extends LoadCounts {
  env: string;
  standby: number;
  /** Deployments of a release that was not running (kind start) and rollbacks, alternating. */
  switches: number;
  kinds: Record<string, number>;
  /** Load start to load stop, switches included. */
  durationMs: number;
  requestsPerSec: number;
  switchMedianMs: number;
}

export interface SwitchLoad {
  clients: number;
  runs: LoadRun[];
  goalFailed: number;
  meetsGoal: boolean;
}

const CLIENTS = 16;
const WARMUP_MS = 300;

/**
 * Keeps `CLIENTS` keep-alive clients looping `GET /` on an environment's port while it switches
 * `switches` times (a new release deployed, then rolled back, and again) with the default warm
 * standby, then `leanSwitches` times with `standby: 0`, where every switch stops the release that served.
 */
export async function benchSwitchLoad(
  switches = 20,
  leanSwitches = 10,
  opts: { deploy?: DeployBenchOptions } = {},
): Promise<SwitchLoad> {
  const scope = new Scope();
  try {
    const d = await createDeployBench(
      scope,
      'bench-load',
      [{ name: 'steady' }, { name: 'lean', standby: 0 }],
      3,
      opts.deploy,
    );
    const runs = [await run(d, 'steady', 1, switches)];
    if (leanSwitches > 0) runs.push(await run(d, 'lean', 0, leanSwitches));
    return { clients: CLIENTS, runs, goalFailed: 0, meetsGoal: runs.every((r) => r.failed === 0) };
  } finally {
    await scope.close();
  }
}

async function run(d: DeployBench, env: string, standby: number, switches: number): Promise<LoadRun> {
  const [v1, v2] = d.shas as [string, string];
  await d.deploy(env, v1);
  await d.deploy(env, v2);
  let serving = v2;
  let previous = v1;
  const load = await startLoad({ port: d.ports[env]!, clients: CLIENTS });
  const started = performance.now();
  const done: Deployment[] = [];
  let counts: LoadCounts;
  try {
    await sleep(WARMUP_MS);
    for (let i = 0; i < switches; i++) {
      if (i % 2 === 0) {
        const fresh = d.shas.find((s) => s !== serving && s !== previous)!;
        done.push(await d.deploy(env, fresh));
        [previous, serving] = [serving, fresh];
      } else {
        const rb = await d.bench.api<Deployment>(
          'POST',
          `/api/apps/${d.app}/environments/${env}/rollback`,
          {},
        );
        const finished = await d.waitDone(rb.id);
        if (finished.status !== 'succeeded' || finished.sha !== previous) {
          throw new Error(`rollback ${rb.id} ${finished.status} to ${finished.sha}: ${finished.error}`);
        }
        done.push(finished);
        [previous, serving] = [serving, previous];
      }
    }
    await sleep(WARMUP_MS);
  } finally {
    counts = await load.stop();
  }
  const durationMs = performance.now() - started;
  const kinds: Record<string, number> = {};
  for (const x of done) kinds[x.kind ?? 'none'] = (kinds[x.kind ?? 'none'] ?? 0) + 1;
  return {
    env,
    standby,
    switches,
    kinds,
    ...counts,
    durationMs: Math.round(durationMs),
    requestsPerSec: Math.round(counts.requests / (durationMs / 1000)),
    switchMedianMs: median(done.map((x) => Date.parse(x.finishedAt!) - Date.parse(x.startedAt!))),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(
    JSON.stringify(await benchSwitchLoad(Number(process.argv[2] ?? 20), Number(process.argv[3] ?? 10))),
  );
}
