import { readdirSync, readFileSync } from 'node:fs';
import { sep } from 'node:path';
import { isAlive, isDead, procStat } from './process-group.js';
import { releaseDir, releasesDir } from './release-folders.js';

/** Every release process gets it, so that a restarted Gantry can recognise its releases' processes. */
export const RELEASE_DIR_ENV = 'GANTRY_RELEASE_DIR';

/** The release folder a process was started for; undefined where /proc cannot tell (not Linux). */
function releaseDirOf(pid: number): string | null | undefined {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return hasProc() ? null : undefined;
  }
  const entry = environ.split('\0').find((e) => e.startsWith(`${RELEASE_DIR_ENV}=`));
  return entry ? entry.slice(RELEASE_DIR_ENV.length + 1) : null;
}

/** Whether `pid` still is the process of that release, and not a stranger that reused the pid. */
export function isReleaseProcess(pid: number, workdir: string, sha: string): boolean {
  if (!isAlive(pid)) return false;
  const dir = releaseDirOf(pid);
  return dir === undefined || dir === releaseDir(workdir, sha);
}

/** Process groups started for any release of this workdir, known to Gantry or not (Linux only). */
export function findReleaseGroups(workdir: string): Array<{ pgid: number; sha: string }> {
  if (!hasProc()) return [];
  const prefix = releasesDir(workdir) + sep;
  const groups = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const dir = releaseDirOf(pid);
    const stat = procStat(pid);
    if (!dir?.startsWith(prefix) || !stat || isDead(stat)) continue;
    groups.set(stat.pgid, dir.slice(prefix.length));
  }
  return [...groups].map(([pgid, sha]) => ({ pgid, sha }));
}

let procMounted: boolean | undefined;
function hasProc(): boolean {
  if (procMounted === undefined) {
    try {
      readFileSync('/proc/self/stat');
      procMounted = true;
    } catch {
      procMounted = false;
    }
  }
  return procMounted;
}
