import { spawn } from 'node:child_process';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { freePort } from '../packages/server/src/drivers/process/free-port.js';
import { writeBenchApp } from './deploy-support.js';
import { get } from './http-probe.js';
import { median, type Scope, sleep } from './support.js';

export interface AppBoot {
  boots: number;
  /** From spawning `sh -c "node server.js"` to the first 200 on /healthz, polled every 2 ms. */
  samplesMs: number[];
  medianMs: number;
}

/** The app's own boot time, without Gantry: what a cold rollback cannot avoid. */
export async function measureAppBoot(scope: Scope, boots: number): Promise<AppBoot> {
  const dir = join(await scope.tempDir('boot'), 'app');
  await writeBenchApp(dir, 'v1');
  const samples: number[] = [];
  for (let i = 0; i < boots; i++) samples.push(await bootOnce(dir));
  return { boots, samplesMs: samples, medianMs: median(samples) };
}

async function bootOnce(dir: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn('sh', ['-c', 'node server.js'], {
    cwd: dir,
    env: { ...process.env, PORT: String(port) },
    detached: true,
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const agent = new Agent({ keepAlive: false });
  try {
    const until = started + 10_000;
    for (;;) {
      const answer = await get(agent, port, '/healthz', 1_000).catch(() => null);
      if (answer?.status === 200) return performance.now() - started;
      if (child.exitCode !== null || performance.now() > until) throw new Error('the bench app did not boot');
      await sleep(2);
    }
  } finally {
    agent.destroy();
    if (child.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // it exited meanwhile
      }
    }
    await exited;
  }
}
