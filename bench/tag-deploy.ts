import { pathToFileURL } from 'node:url';
import type { Deployment } from '@gantry/contracts';
import { phaseMedians } from './deploy-phases.js';
import { createDeployBench } from './deploy-support.js';
import { median, Scope, sleep } from './support.js';

export interface TagDeploy {
  deploys: number;
  /** Deployment finishedAt − the moment `git push <tag>` returned. */
  samplesMs: number[];
  medianMs: number;
  maxMs: number;
  /** `git push` of the tag, hook included. */
  pushMedianMs: number;
  /** requestedAt − push returned: the hook's fetch, the tag scan and the deployment's gates. */
  toRequestedMedianMs: number;
  /** startedAt − requestedAt: the deployer's pickup. */
  toStartedMedianMs: number;
  /** finishedAt − startedAt: the driver's work. */
  runMedianMs: number;
  kinds: Record<string, number>;
  /** Median of each phase over these deployments of new releases. */
  phasesMs: Record<string, number>;
}

const SETTLE_MS = 250;

/**
 * Pushes `deploys` deploy tags, each on a freshly built commit, to an environment with the default
 * warm standby, and times each from the returned push to the finished deployment.
 */
export async function benchTagDeploy(deploys = 10): Promise<TagDeploy> {
  const scope = new Scope();
  try {
    const d = await createDeployBench(scope, 'bench-tags', [{ name: 'staging' }], deploys + 1);
    // The first deployment also starts the environment's proxy; it is not what a tag push usually costs.
    await d.deploy('staging', d.shas[0]!);
    const samples: number[] = [];
    const pushes: number[] = [];
    const done: Deployment[] = [];
    const returned: number[] = [];
    for (let i = 1; i <= deploys; i++) {
      const sha = d.shas[i]!;
      const before = Date.now();
      const returnedAt = await d.pushTag(`deploy/staging/bench-${i}`, sha);
      pushes.push(returnedAt - before);
      const dep = await deploymentOf(d.bench.api, d.app, sha);
      const finished = await d.waitDone(dep.id);
      if (finished.status !== 'succeeded')
        throw new Error(`tag deploy ${dep.id} ${finished.status}: ${finished.error}`);
      samples.push(Date.parse(finished.finishedAt!) - returnedAt);
      returned.push(returnedAt);
      done.push(finished);
      await sleep(SETTLE_MS);
    }
    const kinds: Record<string, number> = {};
    for (const x of done) kinds[x.kind ?? 'none'] = (kinds[x.kind ?? 'none'] ?? 0) + 1;
    const at = (s: string | null) => Date.parse(s ?? '');
    return {
      deploys,
      samplesMs: samples,
      medianMs: median(samples),
      maxMs: Math.max(...samples),
      pushMedianMs: median(pushes),
      toRequestedMedianMs: median(done.map((x, i) => at(x.requestedAt) - returned[i]!)),
      toStartedMedianMs: median(done.map((x) => at(x.startedAt) - at(x.requestedAt))),
      runMedianMs: median(done.map((x) => at(x.finishedAt) - at(x.startedAt))),
      kinds,
      phasesMs: phaseMedians(done),
    };
  } finally {
    await scope.close();
  }
}

async function deploymentOf(
  api: <T>(method: string, path: string) => Promise<T>,
  app: string,
  sha: string,
): Promise<Deployment> {
  const until = Date.now() + 30_000;
  for (;;) {
    const list = await api<Deployment[]>('GET', `/api/deployments?app=${app}&env=staging&limit=5`);
    const found = list.find((x) => x.sha === sha);
    if (found) return found;
    if (Date.now() > until)
      throw new Error(`no deployment of ${sha.slice(0, 7)} 30 s after its tag was pushed`);
    await sleep(10);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchTagDeploy(Number(process.argv[2] ?? 10))));
}
