import { execFile } from 'node:child_process';
import { constants, existsSync, readFileSync } from 'node:fs';
import { access, lstat, readdir, readlink, realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  allowlistedEnv,
  bwrapArgs,
  type HostLayout,
  isInside,
  type SandboxMode,
  type SandboxSpec,
  type SandboxStatus,
} from './sandbox.js';

const run = promisify(execFile);

/** Runs build steps and deploy scripts in bubblewrap, or says why it cannot. */
export interface Sandbox {
  readonly status: SandboxStatus;
  /** The argv to put before `sh -c …` for `spec`; empty when the sandbox is not active. */
  wrap(spec: SandboxSpec): string[];
}

export interface SandboxOptions {
  mode: SandboxMode;
  /** Folders a sandbox must never show: Gantry's data dir; the server's home is always added. */
  hidden: string[];
  /** Where to look for bwrap; default: /usr/bin/bwrap, then $PATH. */
  bwrap?: string;
}

/** The root-level folders and links of the toolchain; /etc is bound with its private files masked. */
const TOOLCHAIN = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc'];

/** Decides the sandbox once at start: `bwrap` mode throws when bubblewrap does not work here. */
export async function createSandbox(opts: SandboxOptions): Promise<Sandbox> {
  if (opts.mode === 'off') return inactive('off', 'builds.sandbox is off');
  const hidden = [...new Set([...opts.hidden, homedir()].map((p) => resolve(p)))];
  const found = await findBwrap(opts.bwrap);
  if (!found) return unusable(opts.mode, `bwrap not found (install the bubblewrap package)`);
  let host: HostLayout;
  let version: string;
  try {
    host = await probeHost(found);
    version = (await run(found, ['--version'], { env: allowlistedEnv(process.env) })).stdout.trim();
    const probe: SandboxSpec = { readWrite: [], cwd: '/', env: allowlistedEnv(process.env), network: false };
    await run(found, [...bwrapArgs(host, hidden, probe), 'true'], { env: probe.env, timeout: 10_000 });
  } catch (err) {
    const why = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    return unusable(opts.mode, `${found} does not work here: ${why}`);
  }
  const status: SandboxStatus = { mode: opts.mode, active: true, reason: `${version} at ${found}` };
  // A folder made after start (the data dir on a first start) is checked each time.
  return {
    status,
    wrap: (spec) => [host.bwrap, ...bwrapArgs(host, hidden.filter(existsSync), spec), '--'],
  };
}

/**
 * The session inside the sandbox that bwrap `pid` started (`--new-session`): its first child, the
 * sandbox's init, leads the session and process group of the step. Undefined once it is gone.
 */
export function sandboxSession(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ');
    return Number(children[0]) || undefined;
  } catch {
    return undefined;
  }
}

function inactive(mode: SandboxMode, reason: string): Sandbox {
  return { status: { mode, active: false, reason }, wrap: () => [] };
}

function unusable(mode: SandboxMode, reason: string): Sandbox {
  if (mode === 'bwrap') throw new Error(`builds.sandbox is bwrap, but ${reason}`);
  return inactive(mode, reason);
}

async function findBwrap(given?: string): Promise<string | null> {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const candidates = given ? [given] : ['/usr/bin/bwrap', ...dirs.map((d) => join(d, 'bwrap'))];
  for (const candidate of candidates) {
    const ok = await access(candidate, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (ok) return resolve(candidate);
  }
  return null;
}

/**
 * The toolchain as it is on this host: root folders bound read-only or recreated as links, node's
 * install folder when it lies elsewhere, /etc/resolv.conf's target, and /etc's owner-only entries.
 */
export async function probeHost(bwrap: string): Promise<HostLayout> {
  const layout: HostLayout = { bwrap, readOnly: [], symlinks: [], maskFiles: [], maskDirs: [] };
  for (const path of TOOLCHAIN) {
    const stats = await lstat(path).catch(() => null);
    if (stats?.isSymbolicLink()) layout.symlinks.push({ path, target: await readlink(path) });
    else if (stats?.isDirectory()) layout.readOnly.push(path);
  }
  const covered = (path: string) =>
    layout.readOnly.some((root) => isInside(root, path)) ||
    layout.symlinks.some((link) => isInside(link.path, path));
  const nodeHome = dirname(dirname(await realpath(process.execPath)));
  if (!covered(nodeHome)) layout.readOnly.push(nodeHome);
  const resolv = await realpath('/etc/resolv.conf').catch(() => null);
  if (resolv && !covered(resolv)) layout.readOnly.push(resolv);
  if (layout.readOnly.includes('/etc')) await maskPrivate('/etc', layout);
  return layout;
}

/** Files only their owner may read, and folders only their owner may list, are hidden. */
async function maskPrivate(dir: string, layout: HostLayout): Promise<void> {
  const names = await readdir(dir).catch(() => null);
  if (!names) {
    layout.maskDirs.push(dir);
    return;
  }
  for (const name of names) {
    const path = join(dir, name);
    const stats = await lstat(path).catch(() => null);
    if (!stats || stats.isSymbolicLink()) continue;
    if (stats.isDirectory()) {
      if ((stats.mode & 0o005) !== 0o005) layout.maskDirs.push(path);
      else await maskPrivate(path, layout);
    } else if ((stats.mode & 0o004) === 0) layout.maskFiles.push(path);
  }
}
