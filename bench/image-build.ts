import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Build } from '@gantry/contracts';
import { baseDockerfile } from '../packages/server/src/features/builds/image-build.js';
import { imageOf } from './container-boot.js';
import { createDeployBench, type DeployBenchOptions, writeBenchApp } from './deploy-support.js';
import { median, Scope } from './support.js';

export interface ImageBuildVsHand {
  /** Timed runs of each, alternating (after one untimed run of each). */
  runs: number;
  /** Gantry's `image` step (context tar, engine build, push, digest read back): the compared figure. */
  imageStepMs: number[];
  imageStepMedianMs: number;
  /** The whole build (checkout, the `package` step, the image step, recording), for the record. */
  buildMs: number[];
  buildMedianMs: number;
  /** `podman build` + `podman push` of the same context and Dockerfile, spawn to exit. */
  handMs: number[];
  handMedianMs: number;
  handBuildMedianMs: number;
  handPushMedianMs: number;
  /** Gantry's image step median over the hand median. */
  ratio: number;
  goalRatio: number;
  meetsGoal: boolean;
}

const GOAL_RATIO = 1.1;
const run = promisify(execFile);

/**
 * Gantry's build of a fresh commit (new VERSION, so the COPY layer is new) against a hand-run
 * `podman build` + `podman push` of the same context (`app/` with the artifact's files) and the same
 * Dockerfile (the one Gantry generates for `build.image.base`), pushed to the same repository with
 * its own tag and a fresh VERSION too, alternating so a noisy spell hits both. The podman CLI shares
 * the API service's storage through the CONTAINERS_* variables of the set-up.
 */
export async function benchImageBuild(deploy: DeployBenchOptions, runs = 5): Promise<ImageBuildVsHand> {
  const base = deploy.image?.base;
  if (!base) throw new Error('benchImageBuild needs deploy.image.base');
  const scope = new Scope();
  try {
    // Its first commit is built when the app is added: the untimed run that pushes the base layers.
    const d = await createDeployBench(scope, 'bench-image', [{ name: 'unused' }], 1, deploy);
    const repository = (await imageOf(d, d.shas[0]!)).split('@')[0]!;
    const dir = await scope.tempDir('image-hand');
    const tags: string[] = [];
    scope.defer(() => run('podman', ['rmi', '--force', ...tags]).catch(() => undefined));
    const hand = async (i: number) => {
      const version = `hand-${i}-${Date.now().toString(36)}`;
      await writeBenchApp(join(dir, 'app'), version);
      await writeFile(join(dir, 'Dockerfile'), baseDockerfile(base, 'node server.js'));
      const tag = `${repository}:${version}`;
      tags.push(tag);
      const t0 = performance.now();
      await podman(['build', '--file', join(dir, 'Dockerfile'), '--tag', tag, ...labels(version), dir]);
      const t1 = performance.now();
      await podman(['push', '--tls-verify=false', tag]);
      const t2 = performance.now();
      return { build: t1 - t0, push: t2 - t1, total: t2 - t0 };
    };
    await hand(0);

    const imageStepMs: number[] = [];
    const buildMs: number[] = [];
    const handRuns: { build: number; push: number; total: number }[] = [];
    for (let i = 1; i <= runs; i++) {
      handRuns.push(await hand(i));
      const sha = await d.addVersion();
      // The list leaves the steps out; the build itself has them.
      const [listed] = await d.bench.api<Build[]>('GET', `/api/builds?app=${d.app}&sha=${sha}`);
      const build = listed && (await d.bench.api<Build>('GET', `/api/builds/${listed.id}`));
      const step = build?.steps?.find((s) => s.name === 'image');
      if (!build || !step?.startedAt || !step.finishedAt)
        throw new Error(`no image step in the build of ${sha}`);
      imageStepMs.push(Date.parse(step.finishedAt) - Date.parse(step.startedAt));
      buildMs.push(Date.parse(build.finishedAt!) - Date.parse(build.startedAt!));
    }
    const handMs = handRuns.map((h) => h.total);
    const ratio = median(imageStepMs) / median(handMs);
    return {
      runs,
      imageStepMs,
      imageStepMedianMs: median(imageStepMs),
      buildMs,
      buildMedianMs: median(buildMs),
      handMs,
      handMedianMs: median(handMs),
      handBuildMedianMs: median(handRuns.map((h) => h.build)),
      handPushMedianMs: median(handRuns.map((h) => h.push)),
      ratio: Math.round(ratio * 100) / 100,
      goalRatio: GOAL_RATIO,
      meetsGoal: ratio <= GOAL_RATIO,
    };
  } finally {
    await scope.close();
  }
}

/** The labels Gantry puts on its images, so both builds write the same config. */
function labels(version: string): string[] {
  return [
    '--label',
    `org.opencontainers.image.revision=${version}`,
    '--label',
    'org.opencontainers.image.source=/tmp/bench/repo.git',
  ];
}

async function podman(args: string[]): Promise<void> {
  await run('podman', args, { maxBuffer: 64 * 1024 * 1024 }).catch((err: { stderr?: string }) => {
    throw new Error(`podman ${args[0]} failed: ${err.stderr?.trim().split('\n').slice(-3).join(' ') ?? err}`);
  });
}
