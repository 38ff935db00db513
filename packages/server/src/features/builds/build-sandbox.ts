import { constants } from 'node:fs';
import { mkdir, open, realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Build, GantryYaml } from '@gantry/contracts';
import type { Sandbox } from '../../sandbox/host-sandbox.js';
import { allowlistedEnv, isInside, sandboxLogLine } from '../../sandbox/sandbox.js';

/** HOME of the steps: a folder of the worktree, never packed into the artifact. */
export const STEP_HOME = '.gantry-home';

export interface StepSandbox {
  env: Record<string, string>;
  wrapper: string[];
  /** The first line of the build log: the sandbox used, or a warning that there is none. */
  logLine: string;
}

/**
 * How a build's steps run: the allowlisted environment (PATH, LANG, TZ, CI, HOME in the worktree,
 * GANTRY_APP/SHA/BUILD_ID and `build.env`) and, when the sandbox is active, bwrap with only the
 * worktree writable. The build cache is restored into the worktree, so it needs no mount of its own.
 */
export async function stepSandbox(
  sandbox: Sandbox,
  build: Build,
  config: GantryYaml,
  app: { name: string; mirror: string },
  worktree: string,
  /** The values of `build.secrets` (features/secrets), kept out of bwrap's arguments. */
  secrets: Record<string, string> = {},
): Promise<StepSandbox> {
  const home = join(worktree, STEP_HOME);
  await mkdir(home, { recursive: true });
  const env = allowlistedEnv(process.env, config.build.env, secrets, {
    HOME: home,
    CI: 'true',
    GANTRY_APP: app.name,
    GANTRY_SHA: build.sha,
    GANTRY_BUILD_ID: build.id,
  });
  const network = config.build.network;
  const git = await gitMounts(worktree, resolve(app.mirror));
  const wrapper = sandbox.wrap({
    readWrite: [worktree],
    readOnly: git.readOnly,
    cwd: worktree,
    env,
    secretEnv: Object.keys(secrets),
    network,
  });
  return { env, wrapper, logLine: `${sandboxLogLine(sandbox.status, network)}\n` };
}

/**
 * What `git` in a step needs of the app's mirror, read-only: its objects, refs and HEAD, and the
 * worktree's own entry (index, HEAD). Not its config, FETCH_HEAD or logs, which can hold the
 * repository URL with its credentials, and nothing of any other repository. The entry stays
 * read-only because the server's own git commands (fetch, prune) read it.
 */
async function gitMounts(worktree: string, mirror: string): Promise<{ readOnly: string[] }> {
  const none = { readOnly: [] };
  // The worktree is the build's (a restored cache folder could even be `.git`): its link is
  // followed only to an entry of this app's own mirror.
  const link = await readRootFile(worktree, '.git').catch(() => null);
  const gitdir = link?.match(/^gitdir: (.+)$/m)?.[1]?.trim();
  if (!gitdir) return none;
  const entry = resolve(worktree, gitdir);
  if (!isInside(join(mirror, 'worktrees'), entry) || entry === join(mirror, 'worktrees')) return none;
  return {
    readOnly: [entry, ...['objects', 'refs', 'packed-refs', 'HEAD'].map((part) => join(mirror, part))],
  };
}

/**
 * `<worktree>/<relPath>` with every symlink resolved, refusing a path that is or goes through a
 * symlink leading outside the worktree (`dist -> /`, `out -> ../..`): the server packs and caches
 * with its own rights, so it must never follow a build's link out of the build.
 */
export async function insideWorktree(worktree: string, relPath: string, what: string): Promise<string> {
  const root = await realpath(worktree);
  let path = join(root, relPath);
  // The deepest part that exists decides where the rest would be created.
  let rest = '';
  for (;;) {
    try {
      const real = await realpath(path);
      const resolved = rest ? join(real, rest) : real;
      if (!isInside(root, resolved)) {
        throw new OutsideWorktree(
          `${what} "${relPath}" is or goes through a symlink that leads outside the worktree (to ${real}); ` +
            'Gantry does not follow links out of a build',
        );
      }
      return resolved;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || path === root) throw err;
      rest = rest ? join(basename(path), rest) : basename(path);
      path = dirname(path);
    }
  }
}

export class OutsideWorktree extends Error {}

/** Reads `gantry.yaml` at the worktree's root without following a symlink (to a secret of the host). */
export async function readRootFile(worktree: string, name: string): Promise<string | null> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(join(worktree, name), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new OutsideWorktree(`${name} is a symlink; Gantry reads it only as a file`);
    throw err;
  }
  try {
    return await file.readFile('utf8');
  } finally {
    await file.close();
  }
}
