import { readdirSync, readFileSync } from 'node:fs';

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

/**
 * TERM to the whole group, KILL after `graceMs`; resolves once every member is gone. The group is
 * what a release is, not its leader: the `sh -c` that leads it may be gone (killed alone) while the
 * app it started, and the app's own children, run on; they get the same grace to shut down.
 */
export async function stopProcessGroup(pgid: number, graceMs = 5_000): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  await waitGroupGone(pgid, graceMs);
  // Members that ignored TERM must not stay behind.
  signalGroup(pgid, 'SIGKILL');
  await waitGroupGone(pgid, 2_000);
}

/** Live members of a process group (Linux); undefined where /proc cannot tell. */
export function groupMembers(pgid: number): number[] | undefined {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const members: number[] = [];
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = procStat(pid);
    if (stat && stat.pgid === pgid && !isDead(stat)) members.push(pid);
  }
  return members;
}

/** True while any process of the group runs (its leader or not). */
export function isGroupAlive(pgid: number): boolean {
  const members = groupMembers(pgid);
  if (members) return members.length > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (isGroupAlive(pgid)) {
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return true;
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
