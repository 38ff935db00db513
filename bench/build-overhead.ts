import { pathToFileURL } from 'node:url';
import type { Build } from '@gantry/contracts';
import { createHookedApp, median, Scope, sleep, startBenchServer } from './support.js';

export interface BuildOverhead {
  builds: number;
  /** Median of finishedAt − startedAt for a build whose only step is `true`. */
  runMedianMs: number;
  runMaxMs: number;
  /** Median of startedAt − queuedAt. */
  queuedToStartedMedianMs: number;
  queuedToStartedMaxMs: number;
  /** Medians of the parts of a run: worktree + config + step rows, the `true` step, pack + DB writes. */
  phases: { checkoutMs: number; stepMs: number; packAndRecordMs: number };
}

/** Rebuilds one commit `builds` times (POST /api/builds with rebuild) and reads the builds' own timestamps. */
export async function benchBuildOverhead(builds = 20): Promise<BuildOverhead> {
  const scope = new Scope();
  try {
    const bench = await startBenchServer(scope);
    const app = await createHookedApp(scope, bench, 'bench-overhead');
    const runs: Build[] = [];
    for (let i = 0; i < builds; i++) {
      const res = await bench.api<{ kind: string; build: Build }>('POST', '/api/builds', {
        app: app.name,
        ref: 'main',
        rebuild: true,
      });
      if (res.kind !== 'queued') throw new Error(`expected a queued rebuild, got ${res.kind}`);
      runs.push(await finished(bench.api, res.build.id));
    }
    const ms = (from: string | null | undefined, to: string | null | undefined) =>
      Date.parse(to ?? '') - Date.parse(from ?? '');
    const run = runs.map((b) => ms(b.startedAt, b.finishedAt));
    const wait = runs.map((b) => ms(b.queuedAt, b.startedAt));
    return {
      builds,
      runMedianMs: median(run),
      runMaxMs: Math.max(...run),
      queuedToStartedMedianMs: median(wait),
      queuedToStartedMaxMs: Math.max(...wait),
      phases: {
        checkoutMs: median(runs.map((b) => ms(b.startedAt, b.steps?.[0]?.startedAt))),
        stepMs: median(runs.map((b) => ms(b.steps?.[0]?.startedAt, b.steps?.at(-1)?.finishedAt))),
        packAndRecordMs: median(runs.map((b) => ms(b.steps?.at(-1)?.finishedAt, b.finishedAt))),
      },
    };
  } finally {
    await scope.close();
  }
}

async function finished(api: <T>(method: string, path: string) => Promise<T>, id: string): Promise<Build> {
  const until = Date.now() + 30_000;
  for (;;) {
    const build = await api<Build>('GET', `/api/builds/${id}`);
    if (build.finishedAt) {
      if (build.status !== 'succeeded') throw new Error(`build ${id} ${build.status}: ${build.error}`);
      return build;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for build ${id}`);
    await sleep(20);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchBuildOverhead(Number(process.argv[2] ?? 20))));
}
