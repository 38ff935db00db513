import { readFileSync } from 'node:fs';

const POLL_MS = 25;

/**
 * True while `pid` runs. A zombie counts as gone (an orphan may wait for a parent that never reaps
 * it), but only once its last thread is gone: until then it still holds its files and ports.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    // EPERM means the pid now belongs to someone else's process, so ours is gone.
    return false;
  }
  const stat = procStat(pid);
  return !stat || !isDead(stat);
}

export function isDead(stat: { state: string; threads: number }): boolean {
  return (stat.state === 'Z' || stat.state === 'X') && stat.threads <= 1;
}

export function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // the group is already gone
  }
}

/** TERM to the whole group, KILL after `graceMs`; resolves once the group leader is gone. */
export async function stopProcessGroup(pid: number, graceMs = 5_000): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  await waitGone(pid, graceMs);
  // Members that ignored TERM, or outlived their leader, must not stay behind.
  signalGroup(pid, 'SIGKILL');
  await waitGone(pid, 2_000);
}

export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return true;
}

/** State and process group from /proc (Linux); undefined elsewhere or when the pid is gone. */
export function procStat(pid: number): { state: string; pgid: number; threads: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses, so parse from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', pgid: Number(fields[2]), threads: Number(fields[17]) };
}
