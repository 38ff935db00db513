import { isAbsolute, relative } from 'node:path';

/** `builds.sandbox`: `auto` uses bubblewrap when it works here, `bwrap` requires it, `off` never uses it. */
export type SandboxMode = 'auto' | 'bwrap' | 'off';
export const sandboxModes: readonly SandboxMode[] = ['auto', 'bwrap', 'off'];

/** What the server reports about its sandbox (`GET /api/server`, start-up warning, build logs). */
export interface SandboxStatus {
  mode: SandboxMode;
  /** True when build steps and deploy scripts really run inside bubblewrap. */
  active: boolean;
  /** Why it is (in)active, for people: "bwrap 0.8.0 works" or "bwrap not found at /usr/bin/bwrap". */
  reason: string;
}

/** The host's file system as a sandbox sees it: measured once at start (see host-layout.ts). */
export interface HostLayout {
  /** Absolute path of the bwrap binary. */
  bwrap: string;
  /** Toolchain folders bound read-only at the same path (/usr, /etc, node's install dir…). */
  readOnly: string[];
  /** Top-level symlinks recreated as they are on the host, e.g. /bin -> usr/bin. */
  symlinks: { path: string; target: string }[];
  /** Files under a read-only folder that only their owner may read (/etc/shadow…): replaced by /dev/null. */
  maskFiles: string[];
  /** Folders under a read-only folder that only their owner may list (/etc/ssl/private…): emptied. */
  maskDirs: string[];
}

/** One sandboxed command: what it may see and the environment it starts with. */
export interface SandboxSpec {
  /** Bound read-write at the same path (the build's worktree, the environment's workdir). */
  readWrite: string[];
  /** Bound read-only at the same path when they exist (an artifact). */
  readOnly?: string[];
  cwd: string;
  env: Record<string, string>;
  /**
   * Names in `env` whose values (secrets) must not be in bwrap's arguments, which every user of the
   * host can read (`ps`, /proc/<pid>/cmdline): they reach the sandbox through bwrap's own
   * environment, so the caller starts bwrap with exactly `env` (runStep does).
   */
  secretEnv?: string[];
  network: boolean;
}

/** The variables a step or script may inherit from the server; everything else is dropped. */
const INHERITED = ['PATH', 'LANG', 'TZ'] as const;
const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * The allowlisted environment: PATH, LANG and TZ from the server (when set), CI=true, then `vars`.
 * Never anything else the server inherited (GANTRY_TOKEN, GANTRY_DATABASE_URL, cloud keys…).
 */
export function allowlistedEnv(
  host: NodeJS.ProcessEnv,
  ...vars: Record<string, string | undefined>[]
): Record<string, string> {
  const env: Record<string, string> = { PATH: DEFAULT_PATH };
  for (const key of INHERITED) {
    const value = host[key];
    if (value) env[key] = value;
  }
  env.CI = 'true';
  for (const set of vars)
    for (const [key, value] of Object.entries(set)) if (value !== undefined) env[key] = value;
  return env;
}

/** True when `path` is `root` or inside it (both absolute and normalised). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The bwrap argument list (without the command) for `spec`: new pid/ipc/uts namespaces, a fresh
 * /proc and /dev, a private /tmp, the toolchain read-only, `hidden` folders (Gantry's data dir, the
 * server's home) emptied where a read-only folder would show them, then the spec's own folders.
 * The environment is cleared and set again from `spec.env`, so nothing of bwrap's own leaks in.
 */
export function bwrapArgs(host: HostLayout, hidden: string[], spec: SandboxSpec): string[] {
  // /tmp first, so that a read-only folder below it stays visible.
  const args: string[] = ['--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp'];
  for (const dir of host.readOnly) args.push('--ro-bind', dir, dir);
  for (const link of host.symlinks) args.push('--symlink', link.target, link.path);
  for (const file of host.maskFiles) args.push('--ro-bind', '/dev/null', file);
  for (const dir of host.maskDirs) args.push('--tmpfs', dir);
  for (const dir of hidden) {
    if (host.readOnly.some((root) => isInside(root, dir) && root !== dir)) args.push('--tmpfs', dir);
  }
  for (const dir of spec.readWrite) args.push('--bind', dir, dir);
  for (const path of spec.readOnly ?? []) args.push('--ro-bind-try', path, path);
  args.push(
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--hostname',
    'gantry-sandbox',
    ...(spec.network ? [] : ['--unshare-net']),
    '--die-with-parent',
    // The step leads a session of its own, so a stop can TERM it without ending bwrap (run-step.ts).
    '--new-session',
    '--cap-drop',
    'ALL',
    '--chdir',
    spec.cwd,
  );
  // With secrets, bwrap passes on the environment it was started with (`env`) instead of clearing it.
  if (!spec.secretEnv?.length) args.push('--clearenv');
  for (const [key, value] of Object.entries(spec.env))
    if (!spec.secretEnv?.includes(key)) args.push('--setenv', key, value);
  return args;
}

/** The first line of a build log: which sandbox the steps ran in, or a warning that there was none. */
export function sandboxLogLine(status: SandboxStatus, network: boolean): string {
  if (!status.active)
    return `gantry: WARNING no sandbox: ${status.reason}; steps can read what the server can`;
  return `gantry: sandbox bwrap (network ${network ? 'on' : 'off'})`;
}
