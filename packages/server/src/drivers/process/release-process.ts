import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';

export interface SpawnedRelease {
  pid: number;
  child: ChildProcess;
  /** Set once the process has exited. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | null;
}

/**
 * Starts `command` with `sh -c` in `cwd` as the leader of a new process group. Output goes straight
 * to a file, not through a pipe to Gantry, so the app keeps running and logging when Gantry dies.
 */
export async function spawnRelease(
  command: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  logFile: string,
): Promise<SpawnedRelease> {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('sh', ['-c', command], { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  child.unref();
  return { pid: child.pid!, child, exit: () => exited };
}

/** The last `lines` lines the log gained after byte `from`. */
export async function logTail(file: string, from: number, lines = 10): Promise<string> {
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return '';
  try {
    const { size } = await handle.stat();
    const start = Math.max(from, size - 16_384);
    const buf = Buffer.alloc(Math.max(0, size - start));
    await handle.read(buf, 0, buf.length, start);
    const all = buf.toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines).join('\n');
  } finally {
    await handle.close();
  }
}

export async function fileSize(file: string): Promise<number> {
  return (await stat(file).catch(() => null))?.size ?? 0;
}
