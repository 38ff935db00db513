import { access, chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Conflict, InvalidInput } from '../errors.js';
import { runGit } from './git-cli.js';

export interface PostReceiveHookOptions {
  serverUrl: string;
  app: string;
  token?: string;
}

export interface InstalledHook {
  hookPath: string;
  /** The repository's earlier post-receive hook, kept and still run first; null when there was none. */
  preservedHook: string | null;
  message: string;
}

const MARKER = '# gantry-post-receive-hook';
const PRESERVED_NAME = 'post-receive.pre-gantry';

export function renderPostReceiveHook(opts: PostReceiveHookOptions): string {
  if (!/^https?:\/\/[^\s]+$/.test(opts.serverUrl)) {
    throw new InvalidInput(
      `serverUrl must be an http(s) URL such as http://gantry.local:8080, got "${opts.serverUrl}"`,
    );
  }
  const url = `${opts.serverUrl.replace(/\/+$/, '')}/api/hooks/git`;
  return `#!/bin/sh
${MARKER}: written by Gantry, which replaces it on reinstall.
# Tells Gantry about each push. It never fails the push: if Gantry cannot be reached, its poller
# picks the push up later.
GANTRY_URL=${shellQuote(url)}
GANTRY_APP_JSON=${shellQuote(JSON.stringify(opts.app))}
GANTRY_TOKEN=${shellQuote(opts.token ?? '')}

input=$(cat)
hook_dir=$(dirname "$0")
if [ -x "$hook_dir/${PRESERVED_NAME}" ]; then
  printf '%s\\n' "$input" | "$hook_dir/${PRESERVED_NAME}" "$@"
fi

json_escape() {
  printf '%s' "$1" | sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g' | tr -d '\\000-\\037'
}

notify() {
  if command -v curl >/dev/null 2>&1; then
    set -- -fsS -m 5 -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary "$1"
    if [ -n "$GANTRY_TOKEN" ]; then set -- "$@" -H "Authorization: Bearer $GANTRY_TOKEN"; fi
    curl "$@" "$GANTRY_URL" 2>&1
  elif command -v wget >/dev/null 2>&1; then
    set -- -T 5 -O /dev/null --header='Content-Type: application/json' --post-data="$1"
    if [ -n "$GANTRY_TOKEN" ]; then set -- "$@" --header="Authorization: Bearer $GANTRY_TOKEN"; fi
    # GNU wget retries a timeout 20 times by default; busybox wget knows neither --tries nor -nv.
    if wget --version 2>/dev/null | grep -q 'GNU Wget'; then set -- "$@" -nv --tries=1; else set -- "$@" -q; fi
    wget "$@" "$GANTRY_URL" 2>&1 || { echo 'wget failed'; return 1; }
  else
    echo 'neither curl nor wget is installed'
    return 1
  fi
}

pusher=$(json_escape "\${REMOTE_USER:-\${USER:-}}")
failed=
while read -r old new ref; do
  # After one failure, skip the rest: a down server would otherwise cost a timeout per ref.
  if [ -z "$ref" ] || [ -n "$failed" ]; then continue; fi
  body="{\\"app\\":$GANTRY_APP_JSON,\\"ref\\":\\"$(json_escape "$ref")\\",\\"before\\":\\"$old\\",\\"after\\":\\"$new\\",\\"pusher\\":\\"$pusher\\"}"
  if err=$(notify "$body"); then
    echo "gantry: notified $GANTRY_URL of $ref -> $(printf '%.7s' "$new")" >&2
  else
    err=$(printf '%s' "$err" | tr '\\n' ' ' | sed 's/ *$//')
    echo "gantry: could not notify $GANTRY_URL (\${err:-unknown error}); the poller will pick this push up" >&2
    failed=1
  fi
done <<EOF
$input
EOF
exit 0
`;
}

/**
 * Installs the hook into a bare repository, keeping an existing non-Gantry post-receive hook as
 * `post-receive.pre-gantry`, which the new hook runs first with the same input.
 */
export async function installPostReceiveHook(
  bareRepoPath: string,
  opts: PostReceiveHookOptions,
): Promise<InstalledHook> {
  const script = renderPostReceiveHook(opts);
  const gitDir = resolve(bareRepoPath);
  const isBare = await runGit(['--git-dir', gitDir, 'rev-parse', '--is-bare-repository'], {
    cwd: gitDir,
  }).then(
    (r) => r.stdout.trim() === 'true',
    () => false,
  );
  if (!isBare) {
    throw new InvalidInput(
      `${gitDir} is not a bare git repository. Install the hook into the bare repository people push to (e.g. /srv/git/${opts.app}.git).`,
    );
  }
  const { stdout } = await runGit(['--git-dir', gitDir, 'rev-parse', '--git-path', 'hooks'], { cwd: gitDir });
  const hooksDir = resolve(gitDir, stdout.trim());
  await mkdir(hooksDir, { recursive: true });
  const hookPath = join(hooksDir, 'post-receive');
  const preservedPath = join(hooksDir, PRESERVED_NAME);

  const existing = await readFile(hookPath, 'utf8').catch(() => null);
  if (existing !== null && !existing.includes(MARKER)) {
    if (await exists(preservedPath)) {
      throw new Conflict(
        `${hookPath} is not Gantry's hook and ${preservedPath} already exists; merge them by hand, remove one, and install again.`,
      );
    }
    await rename(hookPath, preservedPath);
  }
  const preservedHook = (await exists(preservedPath)) ? preservedPath : null;

  // Write then rename, so a push arriving meanwhile never runs a half-written hook. It holds the
  // hook token, so only its owner (the user git runs hooks as) may read it.
  const tmp = `${hookPath}.gantry-tmp`;
  await writeFile(tmp, script, { mode: 0o700 });
  await chmod(tmp, 0o700);
  await rename(tmp, hookPath);

  const message = preservedHook
    ? `installed Gantry's post-receive hook in ${hookPath}; the existing hook was kept as ${preservedHook} and still runs first`
    : `installed Gantry's post-receive hook in ${hookPath}`;
  return { hookPath, preservedHook, message };
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
