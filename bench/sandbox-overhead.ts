import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runStep } from '../packages/server/src/features/builds/run-step.js';
import { createSandbox } from '../packages/server/src/sandbox/host-sandbox.js';
import { allowlistedEnv } from '../packages/server/src/sandbox/sandbox.js';
import { median, Scope } from './support.js';

export interface SandboxOverhead {
  runs: number;
  /** `bwrap … --version` as the sandbox reports it. */
  sandbox: string;
  /** Median spawn → exit of a `true` step through runStep, without and with the sandbox. */
  plainMedianMs: number;
  bwrapMedianMs: number;
  /** What the sandbox adds to the start of each step: the difference of the medians. */
  addedMs: number;
  goalMs: number;
  meetsGoal: boolean;
}

/**
 * Runs a `true` step `runs` times each way, alternating, through the runner's own runStep: plain
 * `sh -c` against `bwrap … sh -c` with the server's real sandbox (toolchain, masks, a worktree).
 */
export async function benchSandboxOverhead(runs = 30): Promise<SandboxOverhead> {
  const scope = new Scope();
  try {
    const data = await scope.tempDir('sandbox');
    const worktree = join(data, 'work', 'bld_bench');
    const sandbox = await createSandbox({ mode: 'bwrap', hidden: [data] });
    const env = allowlistedEnv(process.env, { HOME: join(worktree, '.gantry-home') });
    await mkdir(worktree, { recursive: true });
    const wrapper = sandbox.wrap({ readWrite: [worktree], cwd: worktree, env, network: true });
    const time = async (withSandbox: boolean, i: number) => {
      const started = performance.now();
      const out = await runStep({
        command: 'true',
        cwd: worktree,
        env,
        wrapper: withSandbox ? wrapper : undefined,
        logFile: join(data, 'logs', `${withSandbox ? 'bwrap' : 'plain'}-${i}.log`),
        timeoutMs: 30_000,
        signal: new AbortController().signal,
      });
      if (out.exitCode !== 0) throw new Error(`the step failed (${out.exitCode}): ${out.tail}`);
      return performance.now() - started;
    };
    await time(true, -1); // warm the page cache for bwrap
    const plain: number[] = [];
    const bwrap: number[] = [];
    for (let i = 0; i < runs; i++) {
      plain.push(await time(false, i));
      bwrap.push(await time(true, i));
    }
    const plainMedianMs = round(median(plain));
    const bwrapMedianMs = round(median(bwrap));
    const addedMs = round(bwrapMedianMs - plainMedianMs);
    return {
      runs,
      sandbox: sandbox.status.reason,
      plainMedianMs,
      bwrapMedianMs,
      addedMs,
      goalMs: 100,
      meetsGoal: addedMs <= 100,
    };
  } finally {
    await scope.close();
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchSandboxOverhead(Number(process.argv[2] ?? 30)), null, 2));
}
