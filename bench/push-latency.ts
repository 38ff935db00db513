import { pathToFileURL } from 'node:url';
import { createHookedApp, isFinished, median, Scope, sleep, startBenchServer } from './support.js';

export interface PushLatency {
  pushes: number;
  /** Build startedAt − the moment `git push` returned, per push, in ms (negative: started first). */
  samplesMs: number[];
  medianMs: number;
  maxMs: number;
  minMs: number;
  /** Build queuedAt − push return: the server's fetch, commit records and queueing after the hook. */
  queuedMedianMs: number;
  /** How long `git push` itself took, hook included. */
  pushMedianMs: number;
  goalMs: number;
  medianMeetsGoal: boolean;
  maxMeetsGoal: boolean;
}

const GOAL_MS = 1_000;
const SETTLE_MS = 250;

/**
 * Pushes `pushes` commits to a bare repo with Gantry's post-receive hook and measures when each
 * build starts. The poller is off, so only the hook can trigger builds.
 */
export async function benchPushLatency(pushes = 20): Promise<PushLatency> {
  const scope = new Scope();
  try {
    const bench = await startBenchServer(scope);
    const app = await createHookedApp(scope, bench, 'bench-push');
    const samples: number[] = [];
    const queued: number[] = [];
    const pushMs: number[] = [];
    for (let i = 0; i < pushes; i++) {
      const push = await app.push();
      const started = await app.waitForBuild(push.sha, (b) => b.startedAt !== null);
      samples.push(Date.parse(started.startedAt!) - push.returnedAt);
      queued.push(Date.parse(started.queuedAt) - push.returnedAt);
      pushMs.push(push.pushMs);
      const done = await app.waitForBuild(push.sha, isFinished, 20);
      if (done.status !== 'succeeded') throw new Error(`build ${done.id} ${done.status}: ${done.error}`);
      // The runner removes the worktree after finishing; let that end so each push meets a quiet server.
      await sleep(SETTLE_MS);
    }
    const medianMs = median(samples);
    return {
      pushes,
      samplesMs: samples,
      medianMs,
      maxMs: Math.max(...samples),
      minMs: Math.min(...samples),
      queuedMedianMs: median(queued),
      pushMedianMs: median(pushMs),
      goalMs: GOAL_MS,
      medianMeetsGoal: medianMs < GOAL_MS,
      maxMeetsGoal: Math.max(...samples) < GOAL_MS,
    };
  } finally {
    await scope.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchPushLatency(Number(process.argv[2] ?? 20))));
}
