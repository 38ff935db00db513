import { finishedBuildStatuses } from '@gantry/contracts';
import type { BuildService } from './build-service.js';

export interface LogStreamOptions {
  step?: number;
  follow: boolean;
  signal: AbortSignal;
  pollMs?: number;
}

/**
 * Yields a build's step logs as they grow: each step under a `==> name` header, following
 * the running step until the build finishes when `follow` is set.
 */
export async function* streamBuildLogs(
  builds: BuildService,
  buildId: string,
  opts: LogStreamOptions,
): AsyncGenerator<Buffer> {
  const pollMs = opts.pollMs ?? 150;
  let idx = opts.step ?? 0;
  let offset = 0;
  let headerDone = false;
  while (!opts.signal.aborted) {
    const build = await builds.get(buildId);
    const buildDone = finishedBuildStatuses.includes(build.status);
    const step = build.steps?.[idx];
    if (!step) {
      if (buildDone || !opts.follow || (build.steps?.length ?? 0) > 0) return;
      await sleep(pollMs);
      continue;
    }
    if (step.status === 'pending' || step.status === 'skipped') {
      if (buildDone || !opts.follow) return;
      await sleep(pollMs);
      continue;
    }
    if (!headerDone) {
      yield Buffer.from(`==> ${step.name}\n`);
      headerDone = true;
    }
    const chunk = await builds.readLog(buildId, idx, offset);
    offset += chunk.length;
    if (chunk.length > 0) yield chunk;
    const stepDone = step.status !== 'running';
    if (stepDone && chunk.length === 0) {
      if (opts.step !== undefined) return;
      idx += 1;
      offset = 0;
      headerDone = false;
      continue;
    }
    if (!stepDone && !opts.follow) return;
    if (chunk.length === 0) await sleep(pollMs);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
